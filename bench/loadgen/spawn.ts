// The runner's side of the load generator: forks bench/loadgen/main.js for one run (inside a network
// namespace when the scenario asks, through `ip netns exec`, which keeps the IPC channel), forwards its
// phase events (so the runner can sample the proxy's CPU over exactly the measured window) and returns
// its result. A run that does not finish in its bounded time is killed and reported as failed.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from '../lib/processes.js';
import type { LoadConfig, LoadMessage } from './protocol.js';

const ENTRY = fileURLToPath(new URL('./main.js', import.meta.url));

export type LoadResult = Extract<LoadMessage, { type: 'result' }> & { loadgenPid: number };

export function runLoad(config: LoadConfig, netns: string | undefined, onPhase: (phase: 'measuring' | 'measured', loadgenPid: number) => void = () => {}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // `ip netns exec` execs node in place: the child's pid stays the generator's own.
    const inNetns = netns === undefined ? {} : { execPath: 'ip', execArgv: ['netns', 'exec', netns, process.execPath] };
    const child = fork(ENTRY, [], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], ...inNetns });
    track(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    let settled = false;
    const budgetMs = config.warmupMs + config.durationMs + config.drainMs + 15_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`load generator did not finish within ${budgetMs} ms`));
    }, budgetMs);
    const finish = (err: Error | undefined, result?: LoadResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(result!);
    };
    child.on('message', (m: LoadMessage) => {
      if (m.type === 'phase') onPhase(m.phase, child.pid!);
      else if (m.type === 'result') finish(undefined, { ...m, loadgenPid: child.pid! });
      else finish(new Error(`load generator: ${m.message}`));
    });
    child.on('exit', (code) => finish(new Error(`load generator exited with ${code} before reporting: ${stderr.trim()}`)));
    child.send(config);
  });
}
