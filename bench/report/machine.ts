// A description of the machine a benchmark ran on, for the results page: figures only mean something
// next to the cores, memory, kernel and Node version that produced them.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  readonly date: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly loadAverage: number;
  /** The commit measured, with "+changes" when src/ or bin/ differ from it. */
  readonly commit: string;
  readonly summary: string;
}

function describeCommit(root: string): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'src', 'bin') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? '+changes' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export function describeMachine(root: string): Machine {
  const list = cpus();
  const cpuModel = list[0]?.model.trim() ?? 'unknown CPU';
  const memoryGiB = Number((totalmem() / 2 ** 30).toFixed(1));
  const m = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpuModel,
    cores: list.length,
    memoryGiB,
    kernel: `Linux ${release()}`,
    node: process.version,
    loadAverage: Number(loadavg()[0]!.toFixed(2)),
    commit: describeCommit(root),
  };
  return { ...m, summary: `${m.cores} × ${cpuModel}, ${memoryGiB} GiB, ${m.kernel}, Node ${m.node} (load average ${m.loadAverage} at start), commit ${m.commit}` };
}
