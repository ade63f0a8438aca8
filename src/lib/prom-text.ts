// The Prometheus text exposition format (version 0.0.4): a writer for the pieces a registry renders, and a
// small parser good enough for tests and tools that read our own output back.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** The Content-Type a scrape response carries for this format. */
export const PROM_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

/**
 * Turns any string into a valid label name (invalid characters become `_`, a leading digit gets a `_`
 * prefix), so labels that come from outside (e.g. workload labels) can never break the exposition.
 */
export function sanitizeLabelName(name: string): string {
  if (LABEL_NAME.test(name)) return name;
  const replaced = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return replaced === '' || /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

/** Label values escape backslash, double quote and newline; nothing else is special. */
export function escapeLabelValue(value: string): string {
  // The test first keeps the common case (nothing to escape) free of regex replacement work.
  if (!/[\\"\n]/.test(value)) return value;
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** HELP text escapes backslash and newline (quotes are literal there). */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** Integers print plainly, infinities as `+Inf`/`-Inf`, NaN as `NaN`; other floats in JS's shortest round-trip form. */
export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

/** One `name="value"` pair. The name must already be valid. */
export function labelPair(name: string, value: string): string {
  return `${name}="${escapeLabelValue(value)}"`;
}

/** `a="x",b="y"` in the object's own key order (no braces), so callers can append more pairs. */
export function labelPairs(labels: Readonly<Record<string, string>>): string {
  let out = '';
  for (const name of Object.keys(labels)) {
    out += (out === '' ? '' : ',') + labelPair(name, labels[name]!);
  }
  return out;
}

/** Joins pre-formatted pair lists, skipping empty ones. */
export function joinPairs(...parts: string[]): string {
  let out = '';
  for (const part of parts) {
    if (part !== '') out += out === '' ? part : `,${part}`;
  }
  return out;
}

/** The `# HELP` and `# TYPE` lines that open a metric family. */
export function familyHeader(name: string, type: MetricType, help: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

/** One sample line, `name{pairs} value\n`; braces are left out when there are no labels. */
export function sampleLine(name: string, pairs: string, value: number): string {
  return pairs === '' ? `${name} ${formatValue(value)}\n` : `${name}{${pairs}} ${formatValue(value)}\n`;
}

// ---------------------------------------------------------------------------------------------------
// Parsing

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
}

export interface Exposition {
  readonly ok: true;
  readonly samples: readonly Sample[];
  /** Family name → declared type. */
  readonly types: ReadonlyMap<string, MetricType>;
  /** Family name → unescaped help text. */
  readonly help: ReadonlyMap<string, string>;
}

export interface ParseFailure {
  readonly ok: false;
  /** 1-based line number of the first problem. */
  readonly line: number;
  readonly message: string;
}

const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * The samples of a text exposition, for tests and tools reading a scrape. Malformed text throws a
 * SyntaxError naming the line; use readExposition() to get the problem as a value, or TYPE and HELP too.
 */
export function parseExposition(text: string): Sample[] {
  const result = readExposition(text);
  if (!result.ok) throw new SyntaxError(`metrics text line ${result.line}: ${result.message}`);
  return [...result.samples];
}

/** Reads a text exposition. Errors are values naming the line and what was expected there. */
export function readExposition(text: string): Exposition | ParseFailure {
  const samples: Sample[] = [];
  const types = new Map<string, MetricType>();
  const help = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fail = (message: string): ParseFailure => ({ ok: false, line: i + 1, message });
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) continue; // any other comment
      const [, keyword, name, rest = ''] = m;
      if (!isValidMetricName(name!)) return fail(`invalid metric name "${name}" in ${keyword}`);
      if (keyword === 'HELP') {
        if (help.has(name!)) return fail(`second HELP line for "${name}"`);
        help.set(name!, unescapeHelp(rest));
      } else {
        const type = rest.trim();
        if (!TYPES.has(type)) return fail(`unknown metric type "${type}" for "${name}"`);
        if (types.has(name!)) return fail(`second TYPE line for "${name}"`);
        types.set(name!, type as MetricType);
      }
      continue;
    }
    const sample = parseSample(line);
    if (typeof sample === 'string') return fail(sample);
    samples.push(sample);
  }
  return { ok: true, samples, types, help };
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === '\\' ? '\\' : `\\${c}`));
}

/** Parses one sample line; a string return is the problem found. */
function parseSample(line: string): Sample | string {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) return `expected a metric name at the start of "${line}"`;
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    while (true) {
      while (line[pos] === ' ') pos++;
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(pos));
      if (!labelMatch) return `expected a label name at column ${pos + 1}`;
      const labelName = labelMatch[0];
      pos += labelName.length;
      if (line[pos] !== '=' || line[pos + 1] !== '"') return `expected ="..." after label "${labelName}"`;
      pos += 2;
      let value = '';
      while (pos < line.length && line[pos] !== '"') {
        if (line[pos] === '\\') {
          const next = line[pos + 1];
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else return `invalid escape "\\${next ?? ''}" in label "${labelName}"`;
          pos += 2;
        } else {
          value += line[pos];
          pos++;
        }
      }
      if (pos >= line.length) return `unterminated value for label "${labelName}"`;
      pos++; // closing quote
      if (Object.hasOwn(labels, labelName)) return `duplicate label "${labelName}"`;
      labels[labelName] = value;
      while (line[pos] === ' ') pos++;
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') return `expected "," or "}" after label "${labelName}"`;
    }
  }
  const rest = line.slice(pos);
  const fields = rest.trim().split(/\s+/);
  if (!/^\s/.test(rest) || fields.length < 1 || fields.length > 2 || fields[0] === '') {
    return `expected "value [timestamp]" after "${name}"`;
  }
  const value = parseValue(fields[0]!);
  if (value === undefined) return `invalid sample value "${fields[0]}"`;
  if (fields.length === 2) {
    if (!/^-?\d+$/.test(fields[1]!)) return `invalid timestamp "${fields[1]}"`;
    return { name, labels, value, timestampMs: Number(fields[1]) };
  }
  return { name, labels, value };
}

function parseValue(text: string): number | undefined {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}
