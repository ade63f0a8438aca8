import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { constants, type ServerHttp2Session } from 'node:http2';
import { logger } from '../../lib/log.js';
import { RESET_BUDGET, SessionGuard, SETTINGS_BUDGET, TokenBucket } from './limits.js';

test('TokenBucket allows a burst, then the sustained rate', () => {
  let now = 0;
  const bucket = new TokenBucket({ burst: 3, perSecond: 2 }, () => now);
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  now += 500; // one token back
  assert.deepEqual([bucket.take(), bucket.take()], [true, false]);
  now += 10_000; // refills to the burst, never beyond
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
});

class FakeSession extends EventEmitter {
  destroyedWith: number | undefined;
  destroyed = false;
  socket = { remoteAddress: '127.0.0.1', remotePort: 1 };
  destroy(_err: Error, code: number) {
    this.destroyedWith = code;
    this.destroyed = true;
  }
}

test('SessionGuard closes with ENHANCE_YOUR_CALM once resets outrun the budget', () => {
  let now = 0;
  const session = new FakeSession();
  const guard = new SessionGuard(session as unknown as ServerHttp2Session, logger('test'), () => now);
  for (let i = 0; i < RESET_BUDGET.burst; i++) guard.streamReset();
  assert.equal(session.destroyedWith, undefined, 'the burst is allowed');
  now += 1000;
  for (let i = 0; i < RESET_BUDGET.perSecond; i++) guard.streamReset();
  assert.equal(session.destroyedWith, undefined, 'the sustained rate is allowed');
  guard.streamReset();
  assert.equal(session.destroyedWith, constants.NGHTTP2_ENHANCE_YOUR_CALM);
});

test('SessionGuard counts SETTINGS frames from the session events', () => {
  const session = new FakeSession();
  new SessionGuard(session as unknown as ServerHttp2Session, logger('test'), () => 0);
  for (let i = 0; i < SETTINGS_BUDGET.burst; i++) session.emit('remoteSettings', {});
  assert.equal(session.destroyedWith, undefined);
  session.emit('remoteSettings', {});
  assert.equal(session.destroyedWith, constants.NGHTTP2_ENHANCE_YOUR_CALM);
});
