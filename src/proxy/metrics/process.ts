// The process_* families and proxy_build_info: how much CPU, memory and file descriptors the proxy uses,
// read from /proc at scrape time (the proxy's footprint is a product figure, so it must be observable).
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { familyHeader, labelPair, sampleLine } from '../../lib/prom-text.js';

export interface ProcessSnapshot {
  readonly cpuSeconds: number;
  readonly residentBytes: number;
  /** Absent when /proc is not available (not Linux). */
  readonly virtualBytes?: number;
  readonly openFds?: number;
  /** The soft limit; absent when /proc is missing or the limit is "unlimited". */
  readonly maxFds?: number;
  readonly startTimeSeconds: number;
}

// The kernel reports /proc times in USER_HZ, which is 100 on every architecture Node supports.
const TICKS_PER_SECOND = 100;

// Node's clock origin is the process start as a Unix time, so no boot time arithmetic on /proc is needed.
const START_TIME_SECONDS = Math.round(performance.timeOrigin) / 1000;

/** Reads the current figures; `procSelf` is a parameter so tests can point it at a missing directory. */
export function readProcessSnapshot(procSelf = '/proc/self'): ProcessSnapshot {
  // RSS comes from Node even on Linux: it is the same /proc/self/stat figure, but Node knows the page size
  // to multiply it by and JavaScript cannot ask for it.
  const residentBytes = process.memoryUsage.rss();
  const stat = readStat(procSelf);
  if (stat === undefined) {
    const cpu = process.cpuUsage();
    return { cpuSeconds: (cpu.user + cpu.system) / 1e6, residentBytes, startTimeSeconds: START_TIME_SECONDS };
  }
  return {
    cpuSeconds: stat.cpuSeconds,
    residentBytes,
    virtualBytes: stat.virtualBytes,
    openFds: countOpenFds(procSelf),
    maxFds: readMaxFds(procSelf),
    startTimeSeconds: START_TIME_SECONDS,
  };
}

function readStat(procSelf: string): { cpuSeconds: number; virtualBytes: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`${procSelf}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; fields are counted after its last ')'.
  // The rest starts at field 3 (state): utime is field 14, stime 15, vsize 23.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const vsize = Number(rest[20]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || !Number.isFinite(vsize)) return undefined;
  return { cpuSeconds: (utime + stime) / TICKS_PER_SECOND, virtualBytes: vsize };
}

function countOpenFds(procSelf: string): number | undefined {
  try {
    // Listing the directory opens one descriptor of its own, which shows up in the listing.
    return Math.max(0, readdirSync(`${procSelf}/fd`).length - 1);
  } catch {
    return undefined;
  }
}

function readMaxFds(procSelf: string): number | undefined {
  try {
    const text = readFileSync(`${procSelf}/limits`, 'latin1');
    const m = /^Max open files\s+(\S+)/m.exec(text);
    if (!m || m[1] === 'unlimited') return undefined;
    const n = Number(m[1]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** A family of one unlabelled sample, left out when the figure is unknown on this platform. */
function single(name: string, help: string, value: number | undefined, type: 'gauge' | 'counter' = 'gauge'): string {
  return value === undefined ? '' : familyHeader(name, type, help) + sampleLine(name, '', value);
}

/** The process families, then proxy_build_info{version} 1 (a gauge, as Linkerd exposes it). */
export function renderProcess(p: ProcessSnapshot, version: string): string {
  return (
    single('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', p.cpuSeconds, 'counter') +
    single('process_resident_memory_bytes', 'Resident memory size in bytes.', p.residentBytes) +
    single('process_virtual_memory_bytes', 'Virtual memory size in bytes.', p.virtualBytes) +
    single('process_open_fds', 'Number of open file descriptors.', p.openFds) +
    single('process_max_fds', 'Maximum number of open file descriptors.', p.maxFds) +
    single('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', p.startTimeSeconds) +
    familyHeader('proxy_build_info', 'gauge', 'Proxy build info.') +
    sampleLine('proxy_build_info', labelPair('version', version), 1)
  );
}
