// IPv4 ranges: parsing with clear errors, containment, overlap, and handing out free addresses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contains, freeAddress, nthAddress, overlaps, parseCidr, within, type Cidr } from './cidr.js';

const cidr = (text: string) => parseCidr(text) as Cidr;

test('parseCidr accepts networks and names what is wrong with the rest', () => {
  assert.deepEqual(parseCidr('198.18.0.0/16'), { base: 198 * 2 ** 24 + 18 * 2 ** 16, prefix: 16, text: '198.18.0.0/16' });
  assert.match(parseCidr('198.18.0.1/16') as string, /host bits set; the network is 198\.18\.0\.0\/16/);
  for (const bad of ['198.18.0.0', '300.1.1.1/8', '1.2.3.4/33', 'x/8']) assert.match(parseCidr(bad) as string, /is not an IPv4 CIDR/);
});

test('containment and overlap', () => {
  assert.ok(contains(cidr('198.18.4.0/24'), '198.18.4.255'));
  assert.ok(!contains(cidr('198.18.4.0/24'), '198.18.5.0'));
  assert.ok(within(cidr('198.18.4.0/24'), cidr('198.18.0.0/15')));
  assert.ok(!within(cidr('198.20.0.0/24'), cidr('198.18.0.0/15')));
  assert.ok(overlaps(cidr('198.18.0.0/16'), cidr('198.18.7.0/24')));
  assert.ok(!overlaps(cidr('198.18.0.0/16'), cidr('198.19.0.0/16')));
});

test('freeAddress skips reserved, used, network and broadcast addresses and wraps', () => {
  const range = cidr('198.18.9.0/29'); // .0 network, .7 broadcast
  assert.equal(nthAddress(range, 1), '198.18.9.1');
  assert.equal(freeAddress(range, new Set(), 1), '198.18.9.2');
  assert.equal(freeAddress(range, new Set(['198.18.9.2', '198.18.9.3']), 1), '198.18.9.4');
  assert.equal(freeAddress(range, new Set(['198.18.9.6']), 1, 6), '198.18.9.2');
  assert.equal(freeAddress(range, new Set(['198.18.9.2', '198.18.9.3', '198.18.9.4', '198.18.9.5', '198.18.9.6']), 1), undefined);
});
