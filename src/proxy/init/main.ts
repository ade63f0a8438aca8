// `fathom-proxy init`: installs (or removes) the nat-table rules that redirect a pod's TCP through
// its proxy, for IPv4 and optionally IPv6, each family applied as one iptables-restore transaction.
import { FathomError } from '../../lib/errors.js';
import { runCommand, type Exec } from './exec.js';
import { parseInitArgs, USAGE, type InitOptions } from './options.js';
import { applyScript, failedLine, missingJumps, parseNatTable, removeScript, removeScriptFor, type NatTable } from './restore.js';
import { ALWAYS_SKIPPED_INBOUND_PORTS, buildRules, isJump, OWN_CHAINS, portRefs, type Rule } from './rules.js';

interface TextSink {
  write(text: string): unknown;
}

export interface InitIO {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
}

/** One address family's tools. */
interface Family {
  readonly name: 'iptables' | 'ip6tables';
  readonly save: string;
  readonly restore: string;
  /** Chosen by default rather than asked for: when it cannot be used, it is skipped with a note. */
  readonly optional: boolean;
}

const RESTORE_ARGS = ['--noflush', '-w'] as const;

/** The launcher's entry point (bin/fathom-proxy init ...). */
export async function main(argv: string[]): Promise<void> {
  process.exitCode = await runInit(argv, { stdout: process.stdout, stderr: process.stderr });
}

/** Runs `init` with the given flags; returns the exit code (0 ok, 1 failed, 2 bad flags). */
export async function runInit(argv: readonly string[], io: InitIO, exec: Exec = runCommand): Promise<number> {
  const opts = parseInitArgs(argv);
  if (typeof opts === 'string') {
    io.stderr.write(`fathom-proxy init: ${opts}\nRun 'fathom-proxy init --help' for the flags.\n`);
    return 2;
  }
  if (opts.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const rules = buildRules(opts);
  try {
    for (const family of await families(opts, exec)) {
      if (opts.simulate) io.stdout.write(simulate(family, opts, rules));
      else if (opts.remove) await remove(family, exec, io);
      else await apply(family, opts, rules, exec, io);
    }
    return 0;
  } catch (err) {
    io.stderr.write(`fathom-proxy init: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

async function families(opts: InitOptions, exec: Exec): Promise<Family[]> {
  const v4: Family = { name: 'iptables', save: 'iptables-save', restore: 'iptables-restore', optional: false };
  if (opts.ipv6 === false) return [v4];
  const v6: Family = { name: 'ip6tables', save: 'ip6tables-save', restore: 'ip6tables-restore', optional: opts.ipv6 === 'auto' };
  if (opts.ipv6 === true) return [v4, v6];
  const probe = await exec(v6.save, ['--version']);
  return probe.code === 0 ? [v4, v6] : [v4];
}

function simulate(family: Family, opts: InitOptions, rules: readonly Rule[]): string {
  const script = opts.remove ? removeScriptFor(rules) : applyScript(rules);
  return `# ${family.name}: would run \`${family.restore} ${RESTORE_ARGS.join(' ')}\` with:\n${script}`;
}

async function apply(family: Family, opts: InitOptions, rules: readonly Rule[], exec: Exec, io: InitIO): Promise<void> {
  const installed = await readNat(family, exec, io);
  if (!installed) return;
  const added = missingJumps(rules, installed);
  await restore(family, applyScript(rules, installed), exec);
  const chainRules = rules.filter((r) => !isJump(r)).length;
  const inboundSkips = portRefs([...ALWAYS_SKIPPED_INBOUND_PORTS, ...opts.skipInboundPorts]).join(',');
  const outboundSkips = opts.skipOutboundPorts.size > 0 ? `, ports ${portRefs(opts.skipOutboundPorts).join(',')}` : '';
  io.stdout.write(
    `${family.name}: installed ${chainRules} rules in ${OWN_CHAINS.join(', ')} ` +
      `(jumps: ${added.length > 0 ? `${added.length} added` : 'already present'})\n` +
      `  inbound TCP -> :${opts.inboundPort}, except ports ${inboundSkips}\n` +
      `  outbound TCP -> :${opts.outboundPort}, except uid ${opts.proxyUid}, loopback${outboundSkips}\n`,
  );
}

async function remove(family: Family, exec: Exec, io: InitIO): Promise<void> {
  const installed = await readNat(family, exec, io);
  if (!installed) return;
  const script = removeScript(installed);
  if (!script) {
    io.stdout.write(`${family.name}: nothing to remove\n`);
    return;
  }
  await restore(family, script, exec);
  const jumps = script.split('\n').filter((line) => line.startsWith('-D ')).length;
  const chains = OWN_CHAINS.filter((chain) => installed.chains.has(chain));
  io.stdout.write(`${family.name}: removed ${jumps} jump(s) and chain(s) ${chains.join(', ') || '(none)'}\n`);
}

/** The installed nat table; undefined when an optional family turns out unusable (noted on stderr). */
async function readNat(family: Family, exec: Exec, io: InitIO): Promise<NatTable | undefined> {
  const args = ['-t', 'nat'];
  const res = await exec(family.save, args);
  if (res.code === 0) return parseNatTable(res.stdout);
  const failure = commandError(`${family.save} ${args.join(' ')}`, res.code, res.stderr);
  if (family.optional && failure.code !== 'EINITPERM') {
    io.stderr.write(`fathom-proxy init: skipping ${family.name} (${failure.message}); pass --ipv6 to require it\n`);
    return undefined;
  }
  throw failure;
}

async function restore(family: Family, script: string, exec: Exec): Promise<void> {
  const res = await exec(family.restore, RESTORE_ARGS, script);
  if (res.code === 0) return;
  const err = commandError(`${family.restore} ${RESTORE_ARGS.join(' ')}`, res.code, res.stderr);
  const line = failedLine(res.stderr, script);
  throw line === undefined ? err : new FathomError(err.code, `${err.message}\n  the failing input line: ${line}`);
}

/** A failed command as an error naming the command and quoting its stderr; lack of privilege said plainly. */
function commandError(command: string, code: number, stderr: string): FathomError {
  const said = stderr.trim().replace(/\n+/g, '\n  ') || '(no output)';
  if (code === 127) {
    return new FathomError('ENOIPTABLES', `\`${command}\` failed: ${said} (install the iptables package)`);
  }
  if (/permission denied|must be root|operation not permitted/i.test(stderr)) {
    return new FathomError(
      'EINITPERM',
      `changing iptables rules needs root (CAP_NET_ADMIN) in the pod's network namespace; \`${command}\` said: ${said}`,
    );
  }
  return new FathomError('EIPTABLES', `\`${command}\` failed (exit ${code}): ${said}`);
}
