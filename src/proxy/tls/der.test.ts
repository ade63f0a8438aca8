import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitString, contextPrimitive, integer, oid, sequence, set, tlv } from './der.js';

const hex = (b: Buffer) => b.toString('hex');

test('OIDs encode the first two arcs together and the rest base-128', () => {
  assert.equal(hex(oid('2.5.4.3')), '0603550403');
  assert.equal(hex(oid('1.2.840.113549.1.9.14')), '06092a864886f70d01090e');
  assert.equal(hex(oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
  assert.throws(() => oid('1'), RangeError);
  assert.throws(() => oid('1.x.3'), RangeError);
});

test('lengths use the short form below 128 and the shortest long form above', () => {
  assert.equal(hex(tlv(0x04, Buffer.alloc(127))).slice(0, 4), '047f');
  assert.equal(hex(tlv(0x04, Buffer.alloc(128))).slice(0, 6), '048180');
  assert.equal(hex(tlv(0x04, Buffer.alloc(300))).slice(0, 8), '0482012c');
  assert.equal(tlv(0x04, Buffer.alloc(70_000)).subarray(0, 5).toString('hex'), '0483011170');
});

test('integers stay positive and minimal', () => {
  assert.equal(hex(integer(0)), '020100');
  assert.equal(hex(integer(127)), '02017f');
  assert.equal(hex(integer(128)), '02020080');
  assert.equal(hex(integer(256)), '02020100');
  assert.throws(() => integer(-1), RangeError);
});

test('constructed values nest; SET OF is sorted; BIT STRING has no unused bits', () => {
  assert.equal(hex(sequence(integer(1), integer(2))), '3006020101020102');
  assert.equal(hex(set(integer(2), integer(1))), '3106020101020102');
  assert.equal(hex(bitString(Buffer.from([0xab]))), '030200ab');
  assert.equal(hex(contextPrimitive(2, Buffer.from('a'))), '820161');
});
