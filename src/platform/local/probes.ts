// Readiness checks a pod's supervisor runs from inside the pod's network namespace: an HTTP GET, a TCP
// connect, or a command, each with a timeout; and the default for a container with ports (its first
// port accepts connections).
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { ContainerSpec, Probe } from './objects.js';

export type Check = () => Promise<boolean>;

function tcpCheck(host: string, port: number, timeoutMs: number): Check {
  return () =>
    new Promise((resolve) => {
      const socket = connect({ host, port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
}

function httpCheck(host: string, port: number, path: string, timeoutMs: number): Check {
  return () =>
    new Promise((resolve) => {
      const req = request({ host, port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400);
      });
      req.once('timeout', () => req.destroy());
      req.once('error', () => resolve(false));
      req.end();
    });
}

function execCheck(command: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Check {
  return () =>
    new Promise((resolve) => {
      const [cmd, ...args] = command;
      if (!cmd) return resolve(false);
      const child = spawn(cmd, args, { stdio: 'ignore', env, timeout: timeoutMs });
      child.once('error', () => resolve(false));
      child.once('exit', (code) => resolve(code === 0));
    });
}

/** A port given by number or by the name of one of the container's ports. */
function portOf(container: ContainerSpec, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/**
 * The readiness check of a container, or undefined when it is ready as soon as it runs (no probe, no
 * ports). `host` is the pod's IP: probes reach the app as another pod would, and in a meshed pod
 * local traffic is not redirected, so the check sees the app itself.
 */
export function readinessCheck(container: ContainerSpec, host: string, env: NodeJS.ProcessEnv): Check | undefined {
  const probe: Probe | undefined = container.readinessProbe;
  const timeoutMs = (probe?.timeoutSeconds ?? 1) * 1000;
  if (probe?.httpGet) {
    const port = portOf(container, probe.httpGet.port);
    return port === undefined ? async () => false : httpCheck(host, port, probe.httpGet.path ?? '/', timeoutMs);
  }
  if (probe?.tcpSocket) {
    const port = portOf(container, probe.tcpSocket.port);
    return port === undefined ? async () => false : tcpCheck(host, port, timeoutMs);
  }
  if (probe?.exec) return execCheck(probe.exec.command, env, timeoutMs);
  const first = container.ports?.find((p) => p.protocol === 'TCP');
  return first ? tcpCheck(host, first.containerPort, timeoutMs) : undefined;
}
