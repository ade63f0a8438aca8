import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPAddress } from './gen/fathom/net.js';
import { ipFromProto, ipToProto, tcpAddressToProto, tcpAddressToString } from './net-addr.js';

test('IPv4 is one big-endian word', () => {
  assert.deepEqual(ipToProto('198.18.0.11'), { ip: { $case: 'ipv4', value: 0xc612000b } });
  assert.equal(ipFromProto(ipToProto('255.255.255.255')), '255.255.255.255');
  assert.equal(ipFromProto(ipToProto('0.0.0.0')), '0.0.0.0');
});

test('IPv6 is two 64-bit halves and survives the wire without losing bits', () => {
  const proto = ipToProto('fd00:1:2:3:4:5:6:ffff');
  assert.deepEqual(proto, { ip: { $case: 'ipv6', value: { first: 0xfd00000100020003n, last: 0x000400050006ffffn } } });
  const decoded = IPAddress.decode(IPAddress.encode(proto).finish());
  assert.equal(ipFromProto(decoded), 'fd00:1:2:3:4:5:6:ffff');
  for (const ip of ['::1', '::', 'fe80::1:0:0:1', '2001:db8::', '::ffff:198.18.0.1']) {
    const expected = ip === '::ffff:198.18.0.1' ? '::ffff:c612:1' : ip;
    assert.equal(ipFromProto(ipToProto(ip)), expected, ip);
  }
});

test('socket addresses print as ip:port, IPv6 in brackets', () => {
  assert.equal(tcpAddressToString(tcpAddressToProto('198.18.0.11', 8080)), '198.18.0.11:8080');
  assert.equal(tcpAddressToString(tcpAddressToProto('fd00::1', 443)), '[fd00::1]:443');
  assert.equal(tcpAddressToString(undefined), undefined);
  assert.throws(() => ipToProto('web'), /"web" is not an IP address/);
});
