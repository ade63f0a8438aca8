// Parsing and re-printing YAML streams: errors name the line, untouched documents stay byte for byte,
// edited ones keep the style they were written in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMap } from 'yaml';
import { kubernetesObjects, parseYamlStream, renderStyle, renderYamlStream, type YamlStream } from './yaml-docs.js';

function parse(text: string): YamlStream {
  const result = parseYamlStream(text, 'app.yaml');
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.stream;
}

/** Sets `edited: true` on the first document and renders the stream. */
function editFirst(text: string): string {
  const stream = parse(text);
  const doc = stream.docs[0]!.doc;
  (doc.contents as { set(k: string, v: unknown): void }).set('edited', true);
  return renderYamlStream(stream, new Set([doc]));
}

test('a syntax error names the input, line and column', () => {
  const cases: [string, string][] = [
    ['a: 1\n---\nb: [1,\nc: 2\n', 'invalid YAML in app.yaml at line 4, column 1: '],
    ['kind: Pod\nkind: Pod\n', 'invalid YAML in app.yaml at line 2, column 1: Map keys must be unique'],
    ['spec:\n\t- x\n', 'invalid YAML in app.yaml at line 2, column 1: Tabs are not allowed as indentation'],
  ];
  for (const [text, prefix] of cases) {
    const result = parseYamlStream(text, 'app.yaml');
    assert.equal(result.ok, false);
    if (!result.ok) assert.ok(result.message.startsWith(prefix), result.message);
    if (!result.ok) assert.doesNotMatch(result.message, /\n/);
  }
});

test('unchanged documents print byte for byte, separators and stray comments included', () => {
  const text = '# head\na:   1   # odd spacing\n\n# before the marker\n---\n---\n# only a comment\n---\nb: {x:  1}\n...\n# tail';
  assert.equal(renderYamlStream(parse(text), new Set()), text);
  assert.equal(renderYamlStream(parse(''), new Set()), '');
});

test('an edited document keeps its neighbours, its trailing blank lines and its trailing comment', () => {
  const text = 'a: 1\n# about b\n\n\n---\nb: 2\n';
  assert.equal(editFirst(text), 'a: 1\nedited: true\n# about b\n\n\n---\nb: 2\n');
});

test('an edited document keeps CRLF line ends and a missing final newline', () => {
  assert.equal(editFirst('a: 1\r\nb:\r\n- x\r\n'), 'a: 1\r\nb:\r\n- x\r\nedited: true\r\n');
  assert.equal(editFirst('a: 1'), 'a: 1\nedited: true');
});

test('Kubernetes YAML 1.1 scalars survive re-rendering: octal modes, yes/no, quoted numbers', () => {
  const text = 'defaultMode: 0644\nflag: yes\nport: "8080"\nname: \'single\'\n';
  assert.equal(editFirst(text), text + 'edited: true\n');
});

test('the render style follows the document: indent width, sequence indentation, flow padding', () => {
  assert.deepEqual(renderStyle('a:\n    b:\n        - x\n'), { indent: 4, indentSeq: true, flowCollectionPadding: false, lineWidth: 0 });
  assert.deepEqual(renderStyle('a:\n  b:\n  - x\nc: { d: 1 }\n'), { indent: 2, indentSeq: false, flowCollectionPadding: true, lineWidth: 0 });
  assert.deepEqual(renderStyle('a: 1\n'), { indent: 2, indentSeq: false, flowCollectionPadding: false, lineWidth: 0 });
});

test('kubernetesObjects yields a document, or the items of a List (nested too)', () => {
  const names = (text: string) =>
    parse(text).docs.flatMap(({ doc }) => kubernetesObjects(doc).map((o) => (isMap(o) ? String(o.getIn(['metadata', 'name'])) : '?')));
  assert.deepEqual(names('kind: Pod\nmetadata: {name: a}\n'), ['a']);
  assert.deepEqual(
    names('kind: List\nitems:\n- {kind: Pod, metadata: {name: b}}\n- kind: DeploymentList\n  items:\n  - {kind: Deployment, metadata: {name: c}}\n'),
    ['b', 'c'],
  );
  assert.deepEqual(names('# just a comment\n'), []);
  assert.deepEqual(names('- not\n- an object\n'), []);
});
