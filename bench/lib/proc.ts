// What the benchmark reads about a running proxy from /proc: resident memory (VmRSS) and CPU time
// (utime + stime), for a process and all its descendants (nginx runs a master and workers).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second for /proc/<pid>/stat times (almost always 100). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the process is gone
  }
}

/** `pid` and every live descendant. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const child = Number(name);
    if (!Number.isInteger(child)) continue;
    const f = statFields(child);
    if (!f) continue;
    const ppid = Number(f[1]); // field 4 of stat: ppid
    const list = children.get(ppid) ?? [];
    list.push(child);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** CPU time (user + system) in milliseconds, summed over the given processes. */
export function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]); // fields 14 and 15 of stat: utime, stime
  }
  return (ticks * 1000) / clockTicks();
}

/** Resident set size in MiB, summed over the given processes (VmRSS of /proc/<pid>/status). */
export function rssMb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
      if (m) kb += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/** Samples an RSS figure (e.g. `() => rssMb(tree)`) every `everyMs` and keeps the peak until stopped. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(rss: () => number, everyMs = 100) {
    const sample = (): void => {
      this.peak = Math.max(this.peak, rss());
    };
    sample();
    this.timer = setInterval(sample, everyMs);
  }

  stop(): number {
    clearInterval(this.timer);
    return this.peak;
  }
}

/** Machine-wide CPU time so far, in ms: busy (user, nice, system, irq, softirq) and steal (the VM's host). */
export function machineCpuMs(): { busy: number; steal: number } {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const toMs = (ticks: number): number => (ticks * 1000) / clockTicks();
  return { busy: toMs(user! + nice! + system! + irq! + softirq!), steal: toMs(steal ?? 0) };
}

/** Machine-wide busy CPU over the next `ms`, in % of one core (between runs: other jobs' load). */
export async function busyCpuPct(ms = 500): Promise<number> {
  const a = machineCpuMs().busy;
  await new Promise((r) => setTimeout(r, ms));
  return ((machineCpuMs().busy - a) / ms) * 100;
}

/**
 * On a shared machine, waits (up to `maxWaitMs`) until other jobs use less than `thresholdPct` of one
 * core, so a run is not measured in the middle of someone else's burst. Returns the last busy figure.
 */
export async function waitForQuiet(thresholdPct: number, maxWaitMs: number): Promise<{ busyPct: number; waitedMs: number }> {
  const began = Date.now();
  for (;;) {
    const busyPct = await busyCpuPct(500);
    const waitedMs = Date.now() - began;
    if (busyPct < thresholdPct || waitedMs >= maxWaitMs) return { busyPct, waitedMs };
    await new Promise((r) => setTimeout(r, 1000));
  }
}
