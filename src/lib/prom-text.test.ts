import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  escapeHelp,
  escapeLabelValue,
  familyHeader,
  formatValue,
  joinPairs,
  labelPairs,
  parseExposition,
  readExposition,
  sampleLine,
  sanitizeLabelName,
  type Exposition,
} from './prom-text.js';

test('formatValue writes integers plainly and specials as the format spells them', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [42, '42'],
    [-7, '-7'],
    [1234567890123, '1234567890123'],
    [0.5, '0.5'],
    [1e-7, '1e-7'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ];
  for (const [input, want] of cases) assert.equal(formatValue(input), want, `formatValue(${input})`);
});

test('escapeLabelValue escapes backslash, double quote and newline only', () => {
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['', ''],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['line1\nline2', 'line1\\nline2'],
    ['\\"\n', '\\\\\\"\\n'],
    ['tab\there', 'tab\there'],
    ['ünïcödé', 'ünïcödé'],
  ];
  for (const [input, want] of cases) assert.equal(escapeLabelValue(input), want, JSON.stringify(input));
});

test('escapeHelp escapes backslash and newline but keeps quotes', () => {
  assert.equal(escapeHelp('say "hi"\\ now\nplease'), 'say "hi"\\\\ now\\nplease');
});

test('sanitizeLabelName turns anything into a valid label name', () => {
  const cases: [string, string][] = [
    ['dst_service', 'dst_service'],
    ['app.kubernetes.io/name', 'app_kubernetes_io_name'],
    ['9lives', '_9lives'],
    ['', '_'],
    ['héllo', 'h_llo'],
  ];
  for (const [input, want] of cases) assert.equal(sanitizeLabelName(input), want, input);
});

test('labelPairs keeps the given order; joinPairs skips empty parts', () => {
  assert.equal(labelPairs({ z: '1', a: 'x"y' }), 'z="1",a="x\\"y"');
  assert.equal(labelPairs({}), '');
  assert.equal(joinPairs('', 'a="1"', '', 'b="2"'), 'a="1",b="2"');
  assert.equal(joinPairs('', ''), '');
});

test('familyHeader and sampleLine produce the exposition lines', () => {
  assert.equal(familyHeader('x_total', 'counter', 'Some\nhelp.'), '# HELP x_total Some\\nhelp.\n# TYPE x_total counter\n');
  assert.equal(sampleLine('x_total', '', 3), 'x_total 3\n');
  assert.equal(sampleLine('x_total', 'a="1"', Infinity), 'x_total{a="1"} +Inf\n');
});

function parsed(text: string): Exposition {
  const result = readExposition(text);
  if (!result.ok) assert.fail(`line ${result.line}: ${result.message}`);
  return result;
}

test('parseExposition reads samples, labels, escapes, types and help', () => {
  const text = [
    '# HELP req_total Requests "seen".\\nSecond line.',
    '# TYPE req_total counter',
    '# just a comment',
    '',
    'req_total{a="x\\"y",b="back\\\\slash",c="new\\nline",} 12',
    'req_total 3.5 1700000000000',
    'lat_bucket{le="+Inf"} +Inf',
    'weird{  a="1" , b="2"} -Inf',
    'nan NaN',
  ].join('\n');
  const e = parsed(text);
  assert.equal(e.types.get('req_total'), 'counter');
  assert.equal(e.help.get('req_total'), 'Requests "seen".\nSecond line.');
  assert.deepEqual(e.samples[0], { name: 'req_total', labels: { a: 'x"y', b: 'back\\slash', c: 'new\nline' }, value: 12 });
  assert.deepEqual(e.samples[1], { name: 'req_total', labels: {}, value: 3.5, timestampMs: 1700000000000 });
  assert.equal(e.samples[2]!.value, Infinity);
  assert.deepEqual(e.samples[3]!.labels, { a: '1', b: '2' });
  assert.equal(e.samples[3]!.value, -Infinity);
  assert.ok(Number.isNaN(e.samples[4]!.value));
});

test('parseExposition reports the first bad line as a value', () => {
  const cases: [string, number, RegExp][] = [
    ['ok 1\n{a="1"} 2', 2, /metric name/],
    ['x{a=1} 2', 1, /="\.\.\."/],
    ['x{a="1} 2', 1, /unterminated/],
    ['x{a="\\t"} 2', 1, /invalid escape/],
    ['x{a="1",a="2"} 2', 1, /duplicate label/],
    ['x{a="1" b="2"} 2', 1, /expected "," or "}"/],
    ['x', 1, /value/],
    ['x 1 2 3', 1, /value/],
    ['x one', 1, /invalid sample value/],
    ['x 1 soon', 1, /invalid timestamp/],
    ['# TYPE x countr', 1, /unknown metric type/],
    ['# TYPE x counter\n# TYPE x gauge', 2, /second TYPE/],
    ['# HELP x a\n# HELP x b', 2, /second HELP/],
  ];
  for (const [text, line, message] of cases) {
    const result = readExposition(text);
    assert.equal(result.ok, false, JSON.stringify(text));
    if (!result.ok) {
      assert.equal(result.line, line, JSON.stringify(text));
      assert.match(result.message, message, JSON.stringify(text));
    }
  }
});

test('parseExposition returns the samples and throws on malformed text', () => {
  assert.deepEqual(parseExposition('# TYPE a gauge\na{x="1"} 2\n'), [{ name: 'a', labels: { x: '1' }, value: 2 }]);
  assert.throws(() => parseExposition('ok 1\nbad{'), (err: Error) => err instanceof SyntaxError && /line 2/.test(err.message));
});

test('what the writer writes, the parser reads back', () => {
  const values = ['', 'plain', 'a"b', 'c\\d', 'e\nf', '\\"\n\\n'];
  let text = familyHeader('rt_total', 'counter', 'Round trip.');
  values.forEach((v, i) => (text += sampleLine('rt_total', labelPairs({ v, i: String(i) }), i)));
  const e = parsed(text);
  assert.deepEqual(
    e.samples.map((s) => s.labels.v),
    values,
  );
});
