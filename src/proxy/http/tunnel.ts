// Upgrade (WebSocket, h2c upgrade) and CONNECT requests: the request is sent to the endpoint, and only
// when the endpoint agrees (101 to an Upgrade, 2xx to a CONNECT) do bytes flow raw both ways. A refusal
// is relayed as an ordinary final response and the connection closes, so nothing the client sends after
// a refused switch reaches the endpoint unparsed (the "failed upgrade" request-smuggling class).
// Node's parser leaves the body of such a request unparsed: a Content-Length body is counted off the
// raw bytes and sent as the request's body; a chunked one is refused (never forwarded raw).
import { STATUS_CODES, type Agent, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../lib/log.js';
import type { HttpSeries } from '../metrics/registry.js';
import { splice } from '../tcp/forward.js';
import { errorResponse, REFUSAL_TABLE } from './errors.js';
import { CLIENT_ID_HEADER, forwardableHeaders, headerValue } from './headers.js';
import { requestUpstream } from './upstream.js';
import type { EndpointTarget } from '../target/endpoint.js';

export interface TunnelOptions {
  /** Where the request goes; to a meshed endpoint, over mTLS as HTTP/1.1 (never upgraded to HTTP/2). */
  readonly endpoint: EndpointTarget;
  /** Inbound over mTLS: the client's identity, sent as `fathom-client-id`. */
  readonly clientId: string | undefined;
  /** Inbound: drop a `fathom-client-id` the client sent. */
  readonly stripClientId: boolean;
  readonly series: HttpSeries;
  /** true for Upgrade, false for CONNECT. */
  readonly upgrade: boolean;
  /** The endpoint's connection pool: a refused switch leaves a reusable connection behind. */
  readonly agent: Agent;
  readonly maxHeaderBytes: number;
  readonly log: Logger;
}

export function openTunnel(req: IncomingMessage, client: Socket, head: Buffer, opts: TunnelOptions): void {
  if (headerValue(req.rawHeaders, 'transfer-encoding') !== undefined) {
    client.end(`HTTP/1.1 400 Bad Request\r\nfathom-proxy-error: ${REFUSAL_TABLE.EBADTE.reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    return;
  }
  const start = performance.now();
  const { endpoint, series } = opts;
  const headers = forwardableHeaders(req.rawHeaders, opts.upgrade, opts.stripClientId ? CLIENT_ID_HEADER : undefined);
  if (opts.clientId !== undefined) headers.push(CLIENT_ID_HEADER, opts.clientId);
  let counted = false;
  let answered = false; // a response head was written to the client
  const count = (statusCode: number, error?: string) => {
    if (counted) return;
    counted = true;
    series.response({ statusCode, latencyMs: performance.now() - start, error });
  };
  series.request();
  client.pause();

  const up = requestUpstream(endpoint, { method: req.method, path: req.url, headers, agent: opts.agent, maxHeaderBytes: opts.maxHeaderBytes });
  up.on('error', (err: NodeJS.ErrnoException) => {
    const mapped = errorResponse(err);
    opts.log.debug('tunnel failed', { target: endpoint.addrKey, error: err.code ?? err.message });
    count(mapped.status);
    if (answered) {
      client.destroy(); // too late for a status: cut the connection
      return;
    }
    answered = true;
    client.end(`HTTP/1.1 ${mapped.status} ${STATUS_CODES[mapped.status]}\r\nfathom-proxy-error: ${mapped.reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  // The client left before the endpoint answered.
  client.once('close', () => {
    if (!counted) {
      up.destroy();
      count(0, 'ECLIENTCLOSED');
    }
  });

  const onSwitch = (upRes: IncomingMessage, upstream: Socket, upHead: Buffer) => {
    const status = upRes.statusCode ?? 0;
    count(status);
    answered = true;
    const switched = opts.upgrade ? status === 101 : status >= 200 && status < 300;
    if (!switched) {
      // A CONNECT refusal: relay it one way, then close; the client's bytes are dropped.
      client.write(responseHead(upRes, [...forwardableHeaders(upRes.rawHeaders), 'Connection', 'close']));
      if (upHead.length > 0) client.write(upHead);
      client.once('close', () => upstream.destroy());
      client.on('data', () => {});
      client.resume();
      upstream.pipe(client);
      return;
    }
    client.write(responseHead(upRes, opts.upgrade ? forwardableHeaders(upRes.rawHeaders, true) : forwardableHeaders(upRes.rawHeaders)));
    if (upHead.length > 0) client.write(upHead);
    if (after.length > 0) upstream.write(after);
    splice(client, upstream);
  };
  up.on('upgrade', onSwitch);
  up.on('connect', onSwitch);
  up.on('response', (upRes: IncomingMessage) => {
    // The endpoint refused the Upgrade with a final response: relay it (a chunked body is delimited by
    // the close instead) and close. Whatever the client sent meanwhile is dropped.
    const headers = forwardableHeaders(upRes.rawHeaders);
    headers.push('Connection', 'close');
    answered = true;
    client.write(responseHead(upRes, headers));
    upRes.once('end', () => {
      count(upRes.statusCode ?? 0);
      client.destroySoon();
    });
    upRes.once('error', () => {
      count(upRes.statusCode ?? 0, 'ECONNRESET');
      client.destroy();
    });
    upRes.pipe(client, { end: false });
  });
  // The request body, if any, is the first Content-Length bytes; what follows belongs to the new protocol.
  let after: Buffer = Buffer.alloc(0);
  sendBody(client, head, Number(headerValue(req.rawHeaders, 'content-length') ?? '0'), up, (rest) => (after = rest));
}

/** Writes the next `length` bytes of the client's stream (starting with `head`) as `up`'s body, then ends it. */
function sendBody(client: Socket, head: Buffer, length: number, up: ClientRequest, done: (rest: Buffer) => void): void {
  let remaining = length;
  const take = (chunk: Buffer): boolean => {
    const part = chunk.subarray(0, remaining);
    remaining -= part.length;
    if (part.length > 0) up.write(part);
    if (remaining > 0) return false;
    up.end();
    done(chunk.subarray(part.length));
    return true;
  };
  if (take(head)) return;
  const onData = (chunk: Buffer) => {
    if (!take(chunk)) {
      if (up.writableNeedDrain) {
        client.pause();
        up.once('drain', () => client.resume());
      }
      return;
    }
    client.removeListener('data', onData);
    client.pause();
  };
  client.on('data', onData);
  client.resume();
}

function responseHead(res: IncomingMessage, headers: readonly string[]): string {
  let text = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return text + '\r\n';
}
