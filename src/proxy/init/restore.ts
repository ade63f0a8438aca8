// Turns rules into `iptables-restore --noflush` input, and reads `iptables-save -t nat` to know what
// is installed. Restore applies a whole table transaction at once: the pod never sees half its rules.
import { OWN_CHAINS, COMMENT_PREFIX, isJump, type Rule } from './rules.js';

/** What `iptables-save -t nat` says is installed: chain names and `-A ...` rule lines. */
export interface NatTable {
  readonly chains: ReadonlySet<string>;
  readonly rules: readonly string[];
}

/** Reads the `*nat` section of iptables-save output (no nat section = an empty table). */
export function parseNatTable(saveOutput: string): NatTable {
  const chains = new Set<string>();
  const rules: string[] = [];
  let inNat = false;
  for (const raw of saveOutput.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) inNat = line === '*nat';
    else if (!inNat) continue;
    else if (line === 'COMMIT') inNat = false;
    else if (line.startsWith(':')) chains.add(line.slice(1).split(/\s+/)[0]!);
    else if (line.startsWith('-A ')) rules.push(line);
  }
  return { chains, rules };
}

/** The chain a `-A CHAIN ...` line appends to. */
function ruleChain(line: string): string {
  return line.split(/\s+/)[1] ?? '';
}

/** The chain a rule line jumps (`-j`) or goes (`-g`) to, if any. */
function ruleTarget(line: string): string | undefined {
  return /(?:^|\s)-[jg]\s+(\S+)/.exec(line)?.[1];
}

/** A rule as a restore line: `-A CHAIN <matches> -m comment --comment "fathom-init/..." -j ...`. */
export function renderRule(rule: Rule): string {
  const jumpAt = rule.args.indexOf('-j');
  const matches = rule.args.slice(0, jumpAt < 0 ? rule.args.length : jumpAt);
  const target = jumpAt < 0 ? [] : rule.args.slice(jumpAt);
  const comment = ['-m', 'comment', '--comment', quote(COMMENT_PREFIX + rule.comment)];
  return ['-A', rule.chain, ...matches, ...comment, ...target].join(' ');
}

/** Double-quotes a word the way iptables-save does, so restore reads it back as one argument. */
function quote(word: string): string {
  return `"${word.replace(/["\\]/g, (c) => '\\' + c)}"`;
}

/**
 * Restore input that (re)creates our chains with exactly `rules`: declaring a chain under --noflush
 * creates it or flushes it, so applying twice replaces rather than duplicates. A jump is added only
 * when `installed` has no rule in that built-in chain jumping to the same target; with `installed`
 * undefined (simulate: nothing is read) every jump is listed, marked as conditional.
 */
export function applyScript(rules: readonly Rule[], installed?: NatTable): string {
  const lines = ['*nat', ...OWN_CHAINS.map((chain) => `:${chain} - [0:0]`)];
  for (const rule of rules) if (!isJump(rule)) lines.push(renderRule(rule));
  if (!installed) lines.push('# each jump below is added only when its chain has none yet');
  const jumps = installed ? missingJumps(rules, installed) : rules.filter(isJump);
  for (const jump of jumps) lines.push(renderRule(jump));
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** The jumps of `rules` that `installed` lacks: none in that built-in chain goes to the same target. */
export function missingJumps(rules: readonly Rule[], installed: NatTable): Rule[] {
  return rules.filter((rule) => {
    if (!isJump(rule)) return false;
    const target = ruleTarget(rule.args.join(' '));
    return !installed.rules.some((line) => ruleChain(line) === rule.chain && ruleTarget(line) === target);
  });
}

/**
 * Restore input that deletes every rule jumping to our chains (wherever it is, whatever its comment),
 * then flushes and deletes our chains. Undefined when nothing of ours is installed.
 */
export function removeScript(installed: NatTable): string | undefined {
  const own = OWN_CHAINS.filter((chain) => installed.chains.has(chain));
  const jumps = installed.rules.filter((line) => {
    const target = ruleTarget(line);
    return target !== undefined && OWN_CHAINS.includes(target) && !OWN_CHAINS.includes(ruleChain(line));
  });
  if (own.length === 0 && jumps.length === 0) return undefined;
  // Flush all before deleting any: a chain cannot be deleted while a rule still refers to it.
  const lines = [
    '*nat',
    ...jumps.map((line) => '-D' + line.slice(2)),
    ...own.map((chain) => `-F ${chain}`),
    ...own.map((chain) => `-X ${chain}`),
    'COMMIT',
    '',
  ];
  return lines.join('\n');
}

/** What `--remove --simulate` prints: the removal of a default installation, without reading state. */
export function removeScriptFor(rules: readonly Rule[]): string {
  const installed: NatTable = {
    chains: new Set(OWN_CHAINS),
    rules: rules.filter(isJump).map(renderRule),
  };
  const script = removeScript(installed)!;
  return script.replace('*nat\n', '*nat\n# every rule that jumps to our chains is deleted, whatever its comment\n');
}

/** The restore line an iptables-restore error points at ("Error occurred at line: N"), if any. */
export function failedLine(stderr: string, script: string): string | undefined {
  const at = /line:?\s+(\d+)/i.exec(stderr);
  if (!at) return undefined;
  return script.split('\n')[Number(at[1]) - 1];
}
