// The agent daemon's entry point (`agent-main.js --state-dir DIR`), started detached by `fathom up`.
import { logger, setLogLevel, isLogLevel } from '../../lib/log.js';
import { Agent } from './agent.js';
import { loadConfig } from './config.js';
import { writeFileAtomic } from './files.js';
import { layout } from './layout.js';
import { join } from 'node:path';

const log = logger('agent');

async function main(argv: readonly string[]): Promise<void> {
  const at = argv.indexOf('--state-dir');
  const stateDir = at >= 0 ? argv[at + 1] : undefined;
  const level = process.env['FATHOM_LOCAL_LOG_LEVEL'] ?? 'info';
  if (isLogLevel(level)) setLogLevel(level);
  const config = stateDir ? loadConfig(stateDir) : undefined;
  if (!config) {
    process.stderr.write(`fathom-local agent: no local platform configuration in ${stateDir ?? '(no --state-dir)'}\n`);
    process.exit(2);
  }
  const agent = new Agent(config);
  await agent.start();
  writeFileAtomic(join(layout(config.stateDir).run, 'agent.ready'), `${process.pid}\n`);
  log.info('agent running', { stateDir: config.stateDir });
  const stop = () => {
    agent.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`fathom-local agent: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
