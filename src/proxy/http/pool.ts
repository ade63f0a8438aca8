// Upstream HTTP/1 connection pools: one keep-alive agent per endpoint, reused across requests and client
// connections; to a meshed endpoint (HTTP/1 that must stay HTTP/1: Upgrade and CONNECT) the agent's
// connections are mTLS with ALPN http/1.1. Idle connections close after the pool idle timeout (Linkerd:
// 3 s), shorter than the usual server keep-alive (Node: 5 s) so we rarely reuse a connection the server
// is closing.
import { Agent, type AgentOptions, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { EndpointTarget, EndpointTls } from '../target/endpoint.js';
import { ALPN_HTTP1, outboundClientOptions } from '../tls/context.js';
import type { IdentityStore } from '../tls/store.js';

export class Http1Pool {
  private readonly agents = new Map<string, Agent>();

  constructor(
    private readonly idleTimeoutMs: number,
    /** Our identity, for connections to meshed endpoints (undefined in standalone mode). */
    private readonly store?: IdentityStore,
  ) {}

  agent(endpoint: EndpointTarget): Agent {
    let agent = this.agents.get(endpoint.poolKey);
    if (!agent) {
      // LIFO keeps the fewest connections warm under light load.
      const options: AgentOptions = { keepAlive: true, timeout: this.idleTimeoutMs, scheduling: 'lifo' };
      agent = endpoint.tls && this.store ? new MtlsAgent(options, this.store, endpoint.tls) : new Agent(options);
      this.agents.set(endpoint.poolKey, agent);
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

/**
 * Connections are mTLS to the endpoint's proxy, with the certificate the store holds *now* (renewals apply
 * to new connections). No TLS session is cached, so every connection checks the peer's identity again.
 */
class MtlsAgent extends Agent {
  constructor(
    options: AgentOptions,
    private readonly store: IdentityStore,
    private readonly tls: EndpointTls,
  ) {
    super(options);
  }

  override createConnection(options: ClientRequestArgs): Duplex {
    const port = options.port === undefined || options.port === null ? undefined : Number(options.port);
    return tlsConnect({ ...outboundClientOptions(this.store, this.tls.identity, [ALPN_HTTP1]), host: options.host ?? undefined, port });
  }
}
