// The shared stream's life, driven by hand: a fake RPC and fake timers, so every reconnect and idle
// decision is checked exactly (the real controller is exercised in client.test.ts and reconnect.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import type { Timers } from '../control/backoff.js';
import { recordingLogger } from './testing.js';
import { SharedStream, type StreamSource } from './watch.js';

class FakeTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Moves time forward, running each timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    while (true) {
      const due = [...this.pending].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = end;
  }
}

class FakeCall extends EventEmitter {
  cancelled = false;
  cancel(): void {
    this.cancelled = true;
    this.end(status.CANCELLED, 'Cancelled on client');
  }
  end(code: status, details = ''): void {
    if (code !== status.OK) this.emit('error', Object.assign(new Error(details), { code, details }));
    this.emit('status', { code, details, metadata: undefined });
  }
}

/** Messages are number lists: `[+n]` adds n, `[-n]` removes it; the snapshot is the sorted set. */
function setup(idleMs = 1_000) {
  const timers = new FakeTimers();
  const calls: FakeCall[] = [];
  let idled = 0;
  const source: StreamSource<number[], readonly number[]> = {
    description: 'Get test:80',
    open: () => {
      const call = new FakeCall();
      calls.push(call);
      return call as unknown as ClientReadableStream<number[]>;
    },
    reduce: (previous, message) => {
      const set = new Set(previous ?? []);
      for (const n of message) {
        if (n > 0) set.add(n);
        else set.delete(-n);
      }
      return [...set].sort();
    },
  };
  const stream = new SharedStream(source, {
    timers,
    idleMs,
    failfastMs: 3_000,
    backoff: { random: () => 0 },
    log: recordingLogger(),
    onIdle: () => idled++,
  });
  return { timers, calls, stream, idled: () => idled };
}

test('a stream that ends keeps its snapshot, reconnects after backoff, and the first new message replaces it', () => {
  const { timers, calls, stream } = setup();
  const w = stream.acquire();
  const seen: Array<readonly number[] | undefined> = [];
  w.onChange((s) => seen.push(s));
  calls[0]!.emit('data', [1, 2]);
  calls[0]!.emit('data', [3]);
  assert.deepEqual(w.current, [1, 2, 3]);

  calls[0]!.end(status.UNAVAILABLE, 'Connection dropped');
  calls[0]!.emit('data', [9]); // a late message from the dead stream is ignored
  assert.deepEqual(w.current, [1, 2, 3], 'last known good');
  assert.equal(calls.length, 1);
  timers.advance(99);
  assert.equal(calls.length, 1, 'not before the 100 ms backoff');
  timers.advance(1);
  assert.equal(calls.length, 2);

  calls[1]!.end(status.UNAVAILABLE, 'refused');
  timers.advance(199);
  assert.equal(calls.length, 2, 'the second failure waits twice as long');
  timers.advance(1);
  calls[2]!.emit('data', [4]);
  assert.deepEqual(w.current, [4], 'replaced, not merged');
  calls[2]!.emit('data', [5]);
  assert.deepEqual(w.current, [4, 5]);
  assert.deepEqual(seen, [[1, 2], [1, 2, 3], [4], [4, 5]]);

  calls[2]!.end(status.OK);
  timers.advance(100);
  assert.equal(calls.length, 4, 'a message resets the backoff; an OK end reconnects too');
  w.release();
});

test('INVALID_ARGUMENT makes the target unresolvable: no retry, snapshot dropped, ready() rejects', async () => {
  const { timers, calls, stream } = setup();
  const w = stream.acquire();
  const pending = w.ready();
  const seen: unknown[] = [];
  w.onChange((s) => seen.push(s));
  calls[0]!.end(status.INVALID_ARGUMENT, '"x" is not host:port');
  await assert.rejects(pending, (err: { code?: string }) => err.code === 'EUNRESOLVABLE');
  await assert.rejects(w.ready(), (err: { code?: string }) => err.code === 'EUNRESOLVABLE');
  assert.equal(w.unresolvable, '"x" is not host:port');
  assert.deepEqual(seen, [undefined]);
  timers.advance(60_000);
  assert.equal(calls.length, 1, 'never retried');
  w.release();
});

test('ready() resolves with the first snapshot, or fails fast after its timeout', async () => {
  const { timers, calls, stream } = setup();
  const w = stream.acquire();
  const late = w.ready(500);
  timers.advance(500);
  await assert.rejects(late, (err: { code?: string }) => err.code === 'EDISCOVERYTIMEOUT');
  const early = w.ready(500);
  calls[0]!.emit('data', [7]);
  assert.deepEqual(await early, [7]);
  assert.equal(await w.ready(0), w.current, 'at once once there is a snapshot');
  w.release();
});

test('the last release starts the idle timer; a new user stops it; idle closes the RPC', () => {
  const { timers, calls, stream, idled } = setup(5_000);
  const a = stream.acquire();
  const b = stream.acquire();
  let aCalls = 0;
  a.onChange(() => aCalls++);
  a.release();
  a.release();
  calls[0]!.emit('data', [1]);
  assert.equal(aCalls, 0, 'a released user hears nothing');
  b.release();
  timers.advance(4_999);
  const c = stream.acquire();
  timers.advance(10_000);
  assert.equal(calls[0]!.cancelled, false, 'a user came back in time');
  assert.equal(idled(), 0);
  c.release();
  timers.advance(5_000);
  assert.equal(calls[0]!.cancelled, true);
  assert.equal(idled(), 1);
  assert.equal(stream.connected, false);
});

test('close() while waiting to reconnect cancels the retry, and pending ready() calls reject', async () => {
  const { timers, calls, stream } = setup();
  const w = stream.acquire();
  calls[0]!.end(status.UNAVAILABLE, 'down');
  const pending = w.ready();
  stream.close();
  await assert.rejects(pending, (err: { code?: string }) => err.code === 'EDISCOVERYCLOSED');
  timers.advance(60_000);
  assert.equal(calls.length, 1);
});
