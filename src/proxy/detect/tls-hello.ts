// Reads the server name (SNI) from a TLS ClientHello without consuming it, so the connection can
// still be terminated or passed through afterwards. Parsing never throws: bad input gives 'invalid'.

export type HelloResult = { sni: string | undefined } | 'more' | 'invalid';

/** Parses a buffered ClientHello (RFC 8446 §4.1.2, RFC 6066 §3). */
export function parseClientHello(buf: Buffer): HelloResult {
  if (buf.length < 5) return 'more';
  if (buf[0] !== 0x16) return 'invalid';
  const recordLen = buf.readUInt16BE(3);
  if (buf.length < 5 + recordLen) return 'more';
  // Fragmented hellos (handshake longer than one record) are rare; we read the first record only.
  let p = 5;
  const end = 5 + recordLen;
  const need = (n: number) => p + n <= end;
  if (!need(4) || buf[p] !== 0x01) return 'invalid';
  p += 4; // handshake type + 24-bit length
  if (!need(2 + 32)) return 'invalid';
  p += 2 + 32; // legacy_version, random
  if (!need(1)) return 'invalid';
  p += 1 + buf[p]!; // session id
  if (!need(2)) return 'invalid';
  p += 2 + buf.readUInt16BE(p); // cipher suites
  if (!need(1)) return 'invalid';
  p += 1 + buf[p]!; // compression methods
  if (p === end) return { sni: undefined }; // no extensions
  if (!need(2)) return 'invalid';
  const extEnd = p + 2 + buf.readUInt16BE(p);
  p += 2;
  if (extEnd > end) return 'invalid';
  while (p + 4 <= extEnd) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (p + len > extEnd) return 'invalid';
    if (type === 0x0000) return parseServerNameList(buf.subarray(p, p + len));
    p += len;
  }
  return { sni: undefined };
}

function parseServerNameList(ext: Buffer): HelloResult {
  if (ext.length < 2) return 'invalid';
  const listEnd = 2 + ext.readUInt16BE(0);
  if (listEnd > ext.length) return 'invalid';
  let p = 2;
  while (p + 3 <= listEnd) {
    const nameType = ext[p]!;
    const len = ext.readUInt16BE(p + 1);
    p += 3;
    if (p + len > listEnd) return 'invalid';
    if (nameType === 0) {
      const name = ext.toString('latin1', p, p + len);
      return /^[A-Za-z0-9._-]{1,253}$/.test(name) ? { sni: name.toLowerCase() } : 'invalid';
    }
    p += len;
  }
  return { sni: undefined };
}
