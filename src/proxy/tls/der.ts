// Writes the few ASN.1 DER values a PKCS#10 request needs (X.690 §8 and §10), so the proxy can build its
// CSR without an X.509 library: @peculiar/x509 needs a global Reflect polyfill and adds ~20 MB of RSS at
// load (measured on Node 20), while a proxy's memory is a product figure (DESIGN.md).

/** Tag numbers used below (universal class unless noted). */
export const Tag = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  IA5_STRING: 0x16,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** A DER length: short form below 128, else long form with the fewest bytes. */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A tag-length-value over the concatenated `contents`. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(Tag.SEQUENCE, ...items);

/** A SET OF. DER wants the elements sorted by their encodings; every SET we write has one element. */
export const set = (...items: Uint8Array[]): Buffer => tlv(Tag.SET, ...items.slice().sort(Buffer.compare));

/** A small non-negative INTEGER (enough for version numbers). */
export function integer(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new RangeError(`DER integer out of range: ${value}`);
  const bytes: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0); // keep it positive
  return tlv(Tag.INTEGER, Buffer.from(bytes));
}

/** An OBJECT IDENTIFIER from dotted form, e.g. `2.5.4.3`. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => Number(a));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new RangeError(`bad OID: ${dotted}`);
  const out: number[] = [];
  const push = (arc: number) => {
    const groups = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) groups.unshift((n & 0x7f) | 0x80);
    out.push(...groups);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(Tag.OID, Buffer.from(out));
}

export const utf8String = (text: string): Buffer => tlv(Tag.UTF8_STRING, Buffer.from(text, 'utf8'));
export const octetString = (bytes: Uint8Array): Buffer => tlv(Tag.OCTET_STRING, bytes);

/** A BIT STRING holding whole bytes (no unused bits), as signatures and keys are. */
export const bitString = (bytes: Uint8Array): Buffer => tlv(Tag.BIT_STRING, Buffer.from([0]), bytes);

/** `[n] IMPLICIT` over a constructed value's contents (e.g. the CSR's attributes, `[0] SET OF`). */
export const contextConstructed = (n: number, ...contents: Uint8Array[]): Buffer => tlv(0xa0 | n, ...contents);

/** `[n] IMPLICIT` over a primitive value's bytes (e.g. a GeneralName's dNSName, `[2] IA5String`). */
export const contextPrimitive = (n: number, bytes: Uint8Array): Buffer => tlv(0x80 | n, bytes);
