// Entry point of bin/fathom-proxy: parse configuration once, start the proxy, shut down gracefully on
// SIGTERM/SIGINT. Loads only data-plane code.
import { logger, setLogLevel } from '../lib/log.js';
import { parseProxyConfig } from './config.js';
import { startProxy } from './proxy.js';
import { loadOrigDstAddon } from './transport/orig-dst.js';

export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: fathom-proxy            run the proxy (configured by FATHOM_PROXY_* variables, see docs/proxy-config.md)\n       fathom-proxy init ...   install the redirect rules in this network namespace (see --help)\n');
    return;
  }
  if (argv.length > 0) {
    process.stderr.write(`fathom-proxy: unexpected argument "${argv[0]}" (the proxy is configured by FATHOM_PROXY_* variables)\n`);
    process.exitCode = 2;
    return;
  }
  const config = parseProxyConfig(process.env);
  if ('errors' in config) {
    for (const e of config.errors) process.stderr.write(`fathom-proxy: ${e}\n`);
    process.exitCode = 2;
    return;
  }
  setLogLevel(config.logLevel);
  // Node builds errors on the hot path that nobody reads (an HTTP/2 stream closed before its last write's
  // callback gets an ERR_STREAM_DESTROYED, every time); capturing their stacks cost about 5% of the
  // mesh's CPU. Logs never print stacks below debug, so below debug errors carry none.
  if (config.logLevel !== 'debug' && config.logLevel !== 'trace') Error.stackTraceLimit = 0;
  const log = logger('proxy');
  try {
    loadOrigDstAddon();
    const proxy = await startProxy(config, log);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        // A second signal means "now": skip what is left of the grace period.
        log.info('received second signal, exiting now', { signal });
        process.exit(1);
      }
      stopping = true;
      log.info('received signal', { signal });
      proxy.shutdown().then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  } catch (err) {
    log.error('failed to start', { error: err });
    // Listeners that did open would keep the process alive half-started: exit for real.
    process.exit(1);
  }
}
