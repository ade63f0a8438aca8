// mTLS on the inbound side: a connection whose ClientHello names this proxy's identity is terminated here
// (a client certificate is required and verified against the trust anchors, which tells us the client's
// identity), and an opaque-transport connection's header is read to learn the port inside this pod it is
// for. Before the controller has certified us, such handshakes fail and the connection closes.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../lib/log.js';
import { InboundMtls } from '../tls/terminate.js';
import type { IdentityStore } from '../tls/store.js';
import { decodeTransportHeader, type TransportHeader } from '../transport/transport-header.js';

/** What happens next with a terminated connection: its decrypted socket, the client's identity and ALPN. */
export type Secured = (socket: TLSSocket, clientIdentity: string, alpn: string | false) => void;

export class InboundTls {
  private readonly mtls: InboundMtls;
  /** Connections in their handshake, by the accepted socket, and what to do once they are secure. */
  private readonly pending = new WeakMap<Socket, Secured>();

  constructor(store: IdentityStore, log: Logger) {
    this.mtls = new InboundMtls(store, {
      onSecure: (secure, clientIdentity, alpn) => {
        secure.on('error', noop); // each later stage reports errors its own way
        // Node's TLS server wraps the accepted socket; `_parent` is that socket (stable since Node 0.11).
        const accepted = (secure as unknown as { _parent?: Socket })._parent;
        const next = accepted && this.pending.get(accepted);
        if (!next) {
          secure.destroy();
          return;
        }
        this.pending.delete(accepted);
        next(secure, clientIdentity, alpn);
      },
      onError: (err, socket) => log.info('inbound mTLS refused', { peer: `${socket.remoteAddress}:${socket.remotePort}`, error: err.message }),
    });
  }

  /** Terminates mTLS on `socket` (the ClientHello already read is `prefix`); `next` runs once it is secure. */
  terminate(socket: Socket, prefix: Buffer, next: Secured): void {
    this.pending.set(socket, next);
    this.mtls.terminate(socket, prefix);
  }
}

/**
 * Reads the transport header at the start of `socket` (inside mTLS). `done` gets the header and the bytes
 * read past it (the start of the app's stream), or an error message; the socket is left paused.
 */
export function readTransportHeader(
  socket: Socket,
  timeoutMs: number,
  done: (err: string | undefined, header?: TransportHeader, rest?: Buffer) => void,
): void {
  let buffered: Buffer = Buffer.alloc(0);
  let finished = false;
  const finish = (err: string | undefined, header?: TransportHeader, rest?: Buffer) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('close', onEnd);
    socket.pause();
    done(err, header, rest);
  };
  const onData = (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const decoded = decodeTransportHeader(buffered);
    if (decoded === 'more') return;
    if (typeof decoded === 'string') finish(decoded);
    else finish(undefined, decoded.header, buffered.subarray(decoded.length));
  };
  const onEnd = () => finish('the connection closed before its transport header');
  const timer = setTimeout(() => finish(`no transport header within ${timeoutMs} ms`), timeoutMs);
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
  socket.resume();
}

function noop(): void {}
