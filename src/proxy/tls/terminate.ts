// Terminates inbound mutual TLS on connections the TLS detector hands over, and reports each one with the
// client's verified identity (for `client_id` and the `fathom-client-id` header).
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { FathomError } from '../../lib/errors.js';
import { inboundServerOptions, peerIdentity } from './context.js';
import type { IdentityStore } from './store.js';

/** Linkerd gives a peer 10 s to finish detection; the handshake of an already-detected ClientHello gets as long. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface InboundMtlsOptions {
  /** Called once the handshake succeeded and the client certificate verified. `alpn` is the negotiated protocol. */
  onSecure(socket: TLSSocket, clientIdentity: string, alpn: string | false): void;
  /** A handshake failed (bad or missing client certificate, TLS 1.2, wrong SNI, timeout). The socket is destroyed. */
  onError?(err: Error, socket: Socket): void;
  handshakeTimeoutMs?: number;
}

/**
 * A `tls.Server` that never listens: the inbound listener accepts, detects a ClientHello whose SNI is this
 * proxy's identity, and calls `terminate(socket, detection.prefix)`. Node's server, unlike a bare
 * TLSSocket, enforces `rejectUnauthorized` on the client certificate, so a connection reaches `onSecure`
 * only with a verified peer.
 */
export class InboundMtls {
  readonly server: Server;

  constructor(store: IdentityStore, options: InboundMtlsOptions) {
    this.server = createServer({
      ...inboundServerOptions(store),
      handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    });
    this.server.on('secureConnection', (socket: TLSSocket) => {
      const identity = peerIdentity(socket);
      // A certificate that verifies but names no DNS identity is not a mesh peer.
      if (identity === undefined) {
        socket.destroy();
        options.onError?.(new FathomError('ECLIENTCERT', 'client certificate refused: it names no DNS identity'), socket);
        return;
      }
      options.onSecure(socket, identity, socket.alpnProtocol ?? false);
    });
    this.server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      // Node verifies the client chain after the handshake and then resets the socket, reporting only
      // ECONNRESET; the reason it recorded (CERT_HAS_EXPIRED, UNABLE_TO_GET_ISSUER_CERT_LOCALLY, ...) is
      // what an operator needs to see.
      const reason = socket.authorizationError;
      const report = reason ? new FathomError('ECLIENTCERT', `client certificate refused: ${String(reason)}`, { cause: err }) : err;
      options.onError?.(report, socket);
    });
  }

  /**
   * Starts the TLS handshake on `socket`. `prefix` holds the bytes the detector already read (the
   * ClientHello); they are put back first so the TLS layer sees the stream from its start.
   */
  terminate(socket: Socket, prefix?: Buffer): void {
    if (prefix && prefix.length > 0) socket.unshift(prefix);
    this.server.emit('connection', socket);
  }
}
