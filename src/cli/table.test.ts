// Aligned tables: widths, alignment, no trailing spaces, colour only when asked and never in widths.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderTable, type Column } from './table.js';

interface Row {
  name: string;
  meshed: string;
  success: string;
  rps: string;
}

const columns: Column<Row>[] = [
  { header: 'name', value: (r) => r.name },
  { header: 'meshed', value: (r) => r.meshed, align: 'right' },
  { header: 'success', value: (r) => r.success, align: 'right', colour: (r) => (r.success === '-' ? undefined : parseFloat(r.success) < 95 ? 'red' : 'green') },
  { header: 'rps', value: (r) => r.rps, align: 'right' },
];
const rows: Row[] = [
  { name: 'emoji', meshed: '1/1', success: '100.00%', rps: '1.9rps' },
  { name: 'vote-bot', meshed: '1/1', success: '-', rps: '-' },
  { name: 'voting', meshed: '10/10', success: '85.00%', rps: '0.9rps' },
];

test('columns are aligned, headers upper-cased, three spaces apart, numbers right-aligned', () => {
  assert.equal(
    renderTable(columns, rows),
    [
      'NAME       MESHED   SUCCESS      RPS',
      'emoji         1/1   100.00%   1.9rps',
      'vote-bot      1/1         -        -',
      'voting      10/10    85.00%   0.9rps',
      '',
    ].join('\n'),
  );
});

test('a left-aligned last column has no trailing spaces', () => {
  const text = renderTable([{ header: 'pod', value: (r: string) => r }, { header: 'status', value: (r: string) => (r === 'a' ? 'Running' : 'Pending') }], ['a', 'bbbbbbbb']);
  assert.equal(text, 'POD        STATUS\na          Running\nbbbbbbbb   Pending\n');
  for (const line of text.split('\n')) assert.equal(line, line.trimEnd());
});

test('no rows still prints the header', () => {
  assert.equal(renderTable(columns, []), 'NAME   MESHED   SUCCESS   RPS\n');
});

const ESC = '\u001b';
const stripColour = (text: string) => text.split(ESC).map((part, i) => (i === 0 ? part : part.replace(/^\[\d+m/, ''))).join('');

test('colour is off by default and, when on, does not change the alignment', () => {
  assert.ok(!renderTable(columns, rows).includes(ESC));
  const coloured = renderTable(columns, rows, { colour: true });
  assert.ok(coloured.includes(`${ESC}[32m100.00%${ESC}[0m`));
  assert.ok(coloured.includes(`${ESC}[31m85.00%${ESC}[0m`));
  assert.equal(stripColour(coloured), renderTable(columns, rows));
});

test('widths count characters, not UTF-16 units or bytes', () => {
  const text = renderTable([{ header: 'ok', value: (r: string) => r }, { header: 'x', value: () => 'y' }], ['√', '‼‼']);
  assert.equal(text, 'OK   X\n√    y\n‼‼   y\n');
});
