import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { validateHeaderValue } from 'node:http';
import { FathomError, withContext } from '../../lib/errors.js';
import { ERROR_TABLE, errorResponse, REFUSAL_TABLE } from './errors.js';

// dist/src/proxy/http → the project root.
const DOC = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
const GRPC_NAMES: Readonly<Record<number, string>> = { 4: 'DEADLINE_EXCEEDED', 13: 'INTERNAL', 14: 'UNAVAILABLE' };

/** The rows of the first Markdown table after `heading`, as arrays of trimmed cells. */
function tableAfter(heading: string): string[][] {
  const start = DOC.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `docs/errors.md has a "${heading}" section`);
  const lines = DOC.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (let i = first + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    rows.push(lines[i]!.slice(1, -1).split('|').map((c) => c.trim()));
  }
  return rows;
}

const unquote = (cell: string) => /^`([^`]*)`$/.exec(cell)?.[1] ?? assert.fail(`expected a \`code\` cell, got ${cell}`);

test('docs/errors.md lists exactly the forwarding errors of ERROR_TABLE', () => {
  const documented: Record<string, unknown> = {};
  for (const [code, status, grpc, reason] of tableAfter('## Forwarding errors')) {
    const m = /^(\d+) ([A-Z_]+)$/.exec(grpc!);
    assert.ok(m, `gRPC status cell "${grpc}" reads "<number> <NAME>"`);
    assert.equal(GRPC_NAMES[Number(m[1])], m[2], `gRPC code ${m[1]} is named ${GRPC_NAMES[Number(m[1])]}`);
    documented[unquote(code!)] = { status: Number(status), grpcStatus: Number(m[1]), reason: unquote(reason!) };
  }
  assert.deepEqual(documented, { ...ERROR_TABLE });
});

test('docs/errors.md lists exactly the refusals of REFUSAL_TABLE', () => {
  const documented: Record<string, unknown> = {};
  for (const [code, status, reason] of tableAfter('## Refused requests')) {
    documented[unquote(code!)] = { status: Number(status), reason: unquote(reason!) };
  }
  assert.deepEqual(documented, { ...REFUSAL_TABLE });
});

test('docs/errors.md states the fallback that errorResponse uses', () => {
  const fallback = errorResponse(new FathomError('ESOMETHINGNEW', 'x'));
  assert.match(DOC, new RegExp(`fallback: ${fallback.status}, gRPC ${fallback.grpcStatus} ${GRPC_NAMES[fallback.grpcStatus]}, \`${fallback.reason}\``));
});

test('errorResponse maps codes, wrapped errors, parser errors and the unknown', () => {
  assert.deepEqual(errorResponse(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), ERROR_TABLE.ECONNREFUSED);
  // connectWithTimeout wraps the socket error with context and keeps its code.
  assert.deepEqual(errorResponse(withContext('connect to 10.0.0.1:80', Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }))), ERROR_TABLE.EHOSTUNREACH);
  assert.equal(errorResponse(new FathomError('ECONNECTTIMEOUT', 'timed out')).status, 504);
  // The endpoint's bytes were not a readable HTTP response.
  assert.deepEqual(errorResponse(Object.assign(new Error('Parse Error'), { code: 'HPE_INVALID_CONSTANT' })), ERROR_TABLE.EBADRESPONSE);
  for (const unknown of [new Error('no code'), 'a string', undefined, null, { code: 42 }]) {
    assert.deepEqual(errorResponse(unknown), { status: 502, grpcStatus: 14, reason: 'proxy error' });
  }
});

test('every reason is safe to write into a header field', () => {
  const reasons = [...Object.values(ERROR_TABLE), ...Object.values(REFUSAL_TABLE), errorResponse(undefined)].map((r) => r.reason);
  for (const reason of reasons) {
    assert.match(reason, /^[A-Za-z0-9][A-Za-z0-9 ./,()-]*$/, reason);
    assert.doesNotThrow(() => validateHeaderValue('fathom-proxy-error', reason));
  }
});

test('forwarding-error statuses are gateway errors (503: no endpoint to send to yet); refusals are client errors or 505', () => {
  for (const [code, r] of Object.entries(ERROR_TABLE)) assert.ok(r.status === 502 || r.status === 503 || r.status === 504, code);
  for (const code of ['EDISCOVERYTIMEOUT', 'ENOENDPOINTS', 'EIDENTITYNOTREADY']) assert.equal(ERROR_TABLE[code]?.status, 503, code);
  for (const [code, r] of Object.entries(REFUSAL_TABLE)) assert.ok([400, 408, 431, 505].includes(r.status), code);
});
