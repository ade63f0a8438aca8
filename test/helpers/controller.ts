// Test helper: runs a fathom-controller (in-process with a MemoryPlatform, or as the real bin/ process
// with a JSON state file), gives gRPC clients that verify its identity against the trust anchors, and
// makes CSRs. Proxy-side tests can use it to get a real controller.
import { credentials, type ChannelOptions, type ClientReadableStream } from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DestinationClient } from '../../src/api/gen/fathom/destination.js';
import { IdentityClient } from '../../src/api/gen/fathom/identity.js';
import { Controller } from '../../src/controller/controller.js';
import { DEFAULT_OPAQUE_PORTS } from '../../src/controller/destination/endpoint-translator.js';
import type { CaFiles } from '../../src/controller/identity/ca.js';
import { ECDSA_SHA256, generateP256, x509, type CryptoKeyPair } from '../../src/controller/identity/x509.js';
import { MemoryPlatform } from '../../src/platform/memory/memory-platform.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CONTROLLER_BIN = `${ROOT}bin/fathom-controller`;
export const TRUST_DOMAIN = 'cluster.local';

/** gRPC channel options that make the client check the server's certificate names `identity`. */
export function verifyingOptions(identity: string): ChannelOptions {
  return { 'grpc.ssl_target_name_override': identity, 'grpc.default_authority': identity };
}

export interface Clients {
  destination: DestinationClient;
  identity: IdentityClient;
  close(): void;
}

export function clientsFor(port: number, anchorsPem: string, identity: string): Clients {
  const creds = credentials.createSsl(Buffer.from(anchorsPem));
  const destination = new DestinationClient(`127.0.0.1:${port}`, creds, verifyingOptions(identity));
  const identityClient = new IdentityClient(`127.0.0.1:${port}`, creds, verifyingOptions(identity));
  return { destination, identity: identityClient, close: () => (destination.close(), identityClient.close()) };
}

export interface InProcessController {
  controller: Controller;
  platform: MemoryPlatform;
  stateDir: string;
  clients: Clients;
  /** Closes clients and controller, and removes the state directory unless it was given. */
  close(): Promise<void>;
}

export async function startController(
  opts: { platform?: MemoryPlatform; stateDir?: string; caFiles?: CaFiles; issuanceLifetimeMs?: number; clockSkewMs?: number } = {},
): Promise<InProcessController> {
  const platform = opts.platform ?? new MemoryPlatform();
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'fathom-controller-'));
  const controller = await Controller.start(
    {
      addr: { host: '127.0.0.1', port: 0 },
      stateDir,
      trustDomain: TRUST_DOMAIN,
      controlNamespace: 'fathom',
      clusterDomain: 'cluster.local',
      issuanceLifetimeMs: opts.issuanceLifetimeMs ?? 24 * 3600_000,
      clockSkewMs: opts.clockSkewMs ?? 20_000,
      caFiles: opts.caFiles,
      defaultOpaquePorts: DEFAULT_OPAQUE_PORTS,
    },
    platform,
  );
  const clients = clientsFor(controller.port, controller.trustAnchorsPem, controller.identity);
  return {
    controller,
    platform,
    stateDir,
    clients,
    close: async () => {
      clients.close();
      await controller.close();
      if (!opts.stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export interface ControllerProcess {
  child: ChildProcess;
  port: number;
  identity: string;
  anchorsPem: string;
  logs(): string;
  /** SIGTERM and wait for the exit code (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Runs bin/fathom-controller on a free port and waits until it logs that it serves. */
export async function startControllerProcess(args: string[], stateDir: string): Promise<ControllerProcess> {
  const child = spawn(process.execPath, [CONTROLLER_BIN, '--addr', '127.0.0.1:0', '--api-addr', '127.0.0.1:0', '--dashboard-addr', 'off', '--state-dir', stateDir, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const served = new Promise<number>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /serving destination and identity over TLS addr=127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`fathom-controller exited with ${code}: ${stderr}`)));
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`fathom-controller not serving: ${stderr}`)), 15_000).unref());
  const port = await Promise.race([served, timeout]);
  const identity = /identity=(\S+)/.exec(stderr)?.[1] ?? '';
  return {
    child,
    port,
    identity,
    anchorsPem: readFileSync(join(stateDir, 'trust-anchors.pem'), 'utf8'),
    logs: () => stderr,
    stop: async (timeoutMs = 10_000) => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}

/** Makes a P-256 key and a DER CSR; by default with CN and one DNS SAN equal to `identity`. */
export async function makeCsr(identity: string, opts: { cn?: string; dnsNames?: string[]; ips?: string[] } = {}): Promise<{ der: Buffer; keys: CryptoKeyPair }> {
  const keys = await generateP256();
  const names = [...(opts.dnsNames ?? [identity]).map((value) => ({ type: 'dns' as const, value })), ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value }))];
  const cn = opts.cn ?? identity;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: cn === '' ? '' : `CN=${cn}`,
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return { der: Buffer.from(csr.rawData), keys };
}

/** Reads a server stream one message at a time: `next()` resolves with the next message or fails after a timeout. */
export class StreamReader<T> {
  private readonly queue: T[] = [];
  private waiter: { resolve: (m: T) => void; reject: (e: Error) => void } | undefined;
  private error: Error | undefined;

  constructor(readonly stream: ClientReadableStream<T>) {
    stream.on('data', (m: T) => {
      if (this.waiter) {
        this.waiter.resolve(m);
        this.waiter = undefined;
      } else this.queue.push(m);
    });
    stream.on('error', (err: Error) => {
      this.error = err;
      this.waiter?.reject(err);
      this.waiter = undefined;
    });
  }

  next(timeoutMs = 5_000): Promise<T> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.error) return Promise.reject(this.error);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no stream message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  /** Messages received but not yet read. */
  get pending(): number {
    return this.queue.length;
  }

  cancel(): void {
    this.stream.on('error', () => {});
    this.stream.cancel();
  }
}
