// fathom-controller's entry point: parses flags, builds the platform, starts the controller, and stops it
// cleanly on SIGTERM or SIGINT.
import { logger, setLogLevel } from '../lib/log.js';
import { helpText, parseConfig } from './config.js';
import { Controller } from './controller.js';
import { createPlatform } from './platforms.js';

const log = logger('controller');

export async function main(argv: readonly string[]): Promise<void> {
  const config = parseConfig(argv);
  if (config === 'help') {
    process.stdout.write(helpText());
    return;
  }
  if ('error' in config) {
    process.stderr.write(`fathom-controller: ${config.error}\n`);
    process.exitCode = 2;
    return;
  }
  setLogLevel(config.logLevel);

  let controller: Controller;
  try {
    const platform = await createPlatform(config);
    controller = await Controller.start(config, platform);
  } catch (err) {
    process.stderr.write(`fathom-controller: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    controller.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { error: err as Error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
