// The ticker's thread (see ticker.ts): sleeps precisely until each due time, then wakes the main thread
// unless a wake-up is already pending, `advance` early. flag[0]: a tick is pending; flag[1]: stop;
// flag[2]: how early to wake, in µs (set by the main thread).
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { TickerPlan } from './ticker.js';

const { plan, flag } = workerData as { plan: TickerPlan; flag: Int32Array };
const start = plan.startEpochMs - performance.timeOrigin; // the first due time on this thread's clock

let i = 0;
while (i <= plan.count && Atomics.load(flag, 1) === 0) {
  const wait = start + i * plan.intervalMs - Atomics.load(flag, 2) / 1000 - performance.now();
  // Sleep on the stop slot: a stop request (notify) ends the sleep early.
  if (wait > 0.01) Atomics.wait(flag, 1, 0, wait);
  if (Atomics.compareExchange(flag, 0, 0, 1) === 0) parentPort!.postMessage(0);
  // Skip ticks that fell due while we were sending: the main thread sends everything due when it runs.
  i = Math.max(i + 1, Math.floor((performance.now() + Atomics.load(flag, 2) / 1000 - start) / plan.intervalMs) + 1);
}
