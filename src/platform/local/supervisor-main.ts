// Launches a pod's supervisor (see supervisor.ts); the agent starts it with `ip netns exec`.
import { main } from './supervisor.js';

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`supervisor: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
