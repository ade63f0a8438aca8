// Measures the balancer's per-request cost (pick + start + done) against plain round-robin, for 1, 3 and
// 100 endpoints. Run: `node dist/bench/balancer.bench.js` (bounded to a few seconds).
import { Balancer } from '../src/proxy/balance/balancer.js';

interface Endpoint {
  addr: string;
  pending: number;
}

const WARMUP_MS = 150;
const MEASURE_MS = 600;
const BATCH = 10_000;

function endpoints(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) => ({ addr: `10.0.${i >> 8}.${i & 255}:8080`, pending: 0 }));
}

/** Runs `batch` (BATCH operations) repeatedly for `ms`, returns operations per second. */
function measure(batch: () => void, ms: number): number {
  const start = performance.now();
  let ops = 0;
  let elapsed: number;
  do {
    batch();
    ops += BATCH;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (ops / elapsed) * 1000;
}

function p2cBatch(n: number): () => void {
  const balancer = new Balancer<Endpoint>((e) => e.addr);
  balancer.update(endpoints(n));
  let sink = 0;
  return () => {
    for (let i = 0; i < BATCH; i++) {
      const pick = balancer.picker.pick()!;
      const handle = pick.start();
      // A varying latency so the estimates move as they would under traffic.
      handle.done(5 + (i & 15));
      sink += pick.key.length;
    }
    if (sink < 0) console.log(sink);
  };
}

// The baseline a naive proxy would use: next endpoint in turn, with the same pending bookkeeping.
function roundRobinBatch(n: number): () => void {
  const list = endpoints(n);
  let next = 0;
  let sink = 0;
  return () => {
    for (let i = 0; i < BATCH; i++) {
      const endpoint = list[next]!;
      next = next + 1 === list.length ? 0 : next + 1;
      endpoint.pending++;
      endpoint.pending--;
      sink += endpoint.addr.length;
    }
    if (sink < 0) console.log(sink);
  };
}

function run(): void {
  const fmt = (x: number) => `${(x / 1e6).toFixed(2)} M/s`.padStart(11);
  const ns = (x: number) => `${(1e9 / x).toFixed(0)} ns`.padStart(7);
  console.log(`balancer: pick + start + done per second (Node ${process.version}, ${MEASURE_MS} ms per case)`);
  console.log('endpoints   p2c/peak-ewma   per op   round-robin   per op   p2c cost vs rr');
  for (const n of [1, 3, 100]) {
    const p2c = p2cBatch(n);
    const rr = roundRobinBatch(n);
    measure(p2c, WARMUP_MS);
    measure(rr, WARMUP_MS);
    const p2cRate = measure(p2c, MEASURE_MS);
    const rrRate = measure(rr, MEASURE_MS);
    const extraNs = 1e9 / p2cRate - 1e9 / rrRate;
    console.log(
      `${String(n).padStart(9)}   ${fmt(p2cRate)}     ${ns(p2cRate)}   ${fmt(rrRate)}   ${ns(rrRate)}   +${extraNs.toFixed(0)} ns/request`,
    );
  }
}

run();
