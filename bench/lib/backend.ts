// Starting the benchmark's backend (bench/backends/main.ts): the runner's shared one on this host's
// loopback, or a scenario's own inside a network namespace (the mesh's server pod). Resolves with its
// ports once it has printed them.
import { fileURLToPath } from 'node:url';
import type { BackendPorts } from '../backends/main.js';
import { start, type Child } from './processes.js';
import type { Netns } from './netns.js';

const BACKEND = fileURLToPath(new URL('../backends/main.js', import.meta.url));

export interface Backend {
  readonly child: Child;
  readonly ports: BackendPorts;
}

export async function startBackend(payloadBytes: number, ns?: Netns): Promise<Backend> {
  const args = [BACKEND, '--payload', String(payloadBytes)];
  const child = ns ? ns.spawn('backend', process.execPath, args, { stdout: 'pipe' }) : start('backend', process.execPath, args);
  const ports = await new Promise<BackendPorts>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`backend not ready: ${child.logs()}`)), 10_000);
    child.proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(out.split('\n')[0]!) as BackendPorts);
      }
    });
    child.proc.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`backend exited: ${child.logs()}`));
    });
  });
  return { child, ports };
}
