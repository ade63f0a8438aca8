// Opens a TCP connection to an endpoint with a connect timeout, reporting failure as a FathomError
// whose code the error mapping understands (ECONNREFUSED, ECONNECTTIMEOUT, ...).
import { connect, type Socket } from 'node:net';
import { FathomError, withContext } from '../../lib/errors.js';
import { formatSocketAddr, type SocketAddr } from '../../lib/addr.js';

export function connectWithTimeout(
  target: SocketAddr,
  timeoutMs: number,
  done: (err: FathomError | undefined, socket?: Socket) => void,
): Socket {
  const socket = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
  let settled = false;
  const settle = (err?: FathomError) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.removeListener('error', onError);
    if (err) {
      socket.destroy();
      done(err);
    } else done(undefined, socket);
  };
  const onError = (err: Error) => settle(withContext(`connect to ${formatSocketAddr(target.host, target.port)}`, err));
  const timer = setTimeout(
    () => afterPendingIo(() => settle(new FathomError('ECONNECTTIMEOUT', `connect to ${formatSocketAddr(target.host, target.port)} timed out after ${timeoutMs}ms`))),
    timeoutMs,
  );
  socket.once('connect', () => settle());
  socket.on('error', onError);
  return socket;
}

/**
 * Runs `fn` once I/O already pending has been processed. A timeout that fires after the event loop was
 * busy (a burst of TLS handshakes on a loaded machine) would otherwise beat a connection that completed in
 * time: timers run before the poll phase that reports it. Timeouts that fail a connection go through this.
 */
export function afterPendingIo(fn: () => void): void {
  setImmediate(fn);
}
