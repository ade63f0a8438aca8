// direct: the load generator talks to the backend itself. The floor every proxy is compared with; its
// latency includes the load generator's own cost on this machine.
import type { Scenario } from './scenario.js';

export const direct: Scenario = {
  name: 'direct',
  description: 'client → server, no proxy (the floor)',
  protocols: ['http1', 'grpc'],
  unavailable: () => undefined,
  async start(ctx) {
    return { port: ctx.upstreamPort, proxies: [], stop: async () => {} };
  },
};
