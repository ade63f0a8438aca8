// Protocol detection on an accepted connection: read the client's first bytes (without losing them)
// until the prefix classifier decides, the read limit is reached, or the detect timeout fires.
import type { Socket } from 'node:net';
import { classifyPrefix, MAX_DETECT_BYTES, MAX_TLS_HELLO_BYTES, type Protocol } from './prefix.js';
import { parseClientHello } from './tls-hello.js';

export interface Detection {
  readonly protocol: Protocol;
  /** The bytes read so far; the next stage must replay them (unshift or write upstream). */
  readonly prefix: Buffer;
  /** The TLS server name, when protocol is 'tls' and the ClientHello named one. */
  readonly sni?: string;
  /** True when the timeout fired before a decision (the connection continues as opaque TCP). */
  readonly timedOut: boolean;
  /** True when the client half-closed before a decision. */
  readonly ended: boolean;
}

/**
 * Calls `done` exactly once with the detection, or with an error when the socket failed or closed
 * without sending anything. The socket is left paused with no data listener. The returned function
 * stops detection early (the destination is known to be opaque): `done` then gets 'opaque' at once,
 * with whatever was read.
 */
export function detectProtocol(socket: Socket, timeoutMs: number, done: (err: Error | undefined, d?: Detection) => void): () => void {
  let buffered: Buffer = Buffer.alloc(0);
  let finished = false;

  const finish = (err: Error | undefined, d?: Detection) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
    socket.pause();
    done(err, d);
  };
  const decide = (protocol: Protocol, extra: { timedOut?: boolean; ended?: boolean; sni?: string } = {}) =>
    finish(undefined, { protocol, prefix: buffered, sni: extra.sni, timedOut: extra.timedOut ?? false, ended: extra.ended ?? false });

  const onData = (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const verdict = classifyPrefix(buffered);
    if (verdict === 'tls') {
      const hello = parseClientHello(buffered);
      if (hello === 'more') {
        if (buffered.length >= MAX_TLS_HELLO_BYTES) decide('tls');
        return;
      }
      decide('tls', hello === 'invalid' ? {} : { sni: hello.sni });
    } else if (verdict === 'more') {
      if (buffered.length >= MAX_DETECT_BYTES) decide('opaque');
    } else {
      decide(verdict);
    }
  };
  const onEnd = () => {
    if (buffered.length === 0) finish(new Error('client closed before sending data'));
    else {
      const verdict = classifyPrefix(buffered);
      decide(verdict === 'more' ? 'opaque' : verdict, { ended: true });
    }
  };
  const onError = (err: Error) => finish(err);
  const onClose = () => finish(new Error('client closed before sending data'));

  const timer = setTimeout(() => decide('opaque', { timedOut: true }), timeoutMs);
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', onClose);
  return () => decide('opaque');
}
