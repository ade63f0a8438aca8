// Moves a message body from a readable to a writable with backpressure, without stream.pipe(): per call,
// pipe() registers seven listeners and six closures on the two streams and removes them again at the end,
// about 4 % of the proxy's CPU at 2000 HTTP/1 requests/s (docs/performance.md, optimisation log). A body
// needs only its chunks written, a pause while the writable is full, and one step at the end.
import type { Readable, Writable } from 'node:stream';

/**
 * Writes every chunk `src` emits to `dest`, pausing `src` while `dest` is full; calls `onEnd` once `src`
 * ended (the caller ends `dest`, after trailers if any). Like pipe(), it never ends or destroys either
 * stream on an error: the callers' error paths do that.
 */
export function relayBody(src: Readable, dest: Writable, onEnd: () => void): void {
  const resume = (): void => void src.resume();
  src.on('data', (chunk: Buffer) => {
    if (!dest.write(chunk)) {
      src.pause();
      dest.once('drain', resume);
    }
  });
  src.once('end', onEnd);
}
