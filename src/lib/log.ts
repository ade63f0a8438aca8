// Structured-enough logging: one line per event, `level component: message key=value`, to stderr.
// The level is set once at start-up from configuration.

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';
const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

let threshold = ORDER.info;
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function isLogLevel(text: string): text is LogLevel {
  return Object.hasOwn(ORDER, text);
}

export function setLogLevel(level: LogLevel): void {
  threshold = ORDER[level];
}

/** Replaces where log lines go (tests capture them). */
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

export interface Logger {
  enabled(level: LogLevel): boolean;
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

function render(fields: Record<string, unknown> | undefined): string {
  if (!fields) return '';
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const text = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v);
    out += ` ${k}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return out;
}

export function logger(component: string): Logger {
  const emit = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] > threshold) return;
    sink(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${component}: ${msg}${render(fields)}`);
  };
  return {
    enabled: (level) => ORDER[level] <= threshold,
    error: emit('error'),
    warn: emit('warn'),
    info: emit('info'),
    debug: emit('debug'),
  };
}
