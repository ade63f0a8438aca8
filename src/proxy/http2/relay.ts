// Relays an HTTP/2 body between two streams with backpressure, so flow control holds end to end.
import type { Readable, Writable } from 'node:stream';

/**
 * Body bytes from `src` to `dst` with backpressure (dst full → src paused → no WINDOW_UPDATE to its sender),
 * ending `dst` when `src` ends. Does what pipe() does for us with a third of its listeners; resets and
 * errors are handled by the exchange, not here.
 */
export function relay(src: Readable, dst: Writable): void {
  const resume = () => src.resume();
  src.on('data', (chunk: Buffer) => {
    if (!dst.write(chunk)) {
      src.pause();
      dst.once('drain', resume);
    }
  });
  src.once('end', () => dst.end());
}
