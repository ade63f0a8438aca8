// Upstream HTTP/1 connection pools: one keep-alive agent per endpoint address, reused across
// requests and client connections. Idle connections close after the pool idle timeout (Linkerd: 3 s),
// shorter than the usual server keep-alive (Node: 5 s) so we rarely reuse a connection the server
// is closing.
import { Agent } from 'node:http';

export class Http1Pool {
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly idleTimeoutMs: number) {}

  agent(key: string): Agent {
    let agent = this.agents.get(key);
    if (!agent) {
      // LIFO keeps the fewest connections warm under light load.
      agent = new Agent({ keepAlive: true, timeout: this.idleTimeoutMs, scheduling: 'lifo' });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Closes idle connections of every pool (on shutdown). */
  closeIdle(): void {
    for (const agent of this.agents.values()) {
      for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
    }
  }

  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
