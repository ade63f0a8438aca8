// -o parsing and the JSON/YAML renderings shared by commands that print objects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from './command.js';
import { parseOutputFormat, renderStructured } from './output.js';

test('-o accepts the formats a command allows and defaults to a table', () => {
  assert.equal(parseOutputFormat(undefined, ['table', 'json']), 'table');
  assert.equal(parseOutputFormat('json', ['table', 'wide', 'json', 'yaml']), 'json');
  assert.throws(() => parseOutputFormat('yaml', ['table', 'wide', 'json']), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.equal(err.message, 'invalid output format "yaml": expected wide, json or no -o for a table');
    return true;
  });
});

test('JSON is indented like kubectl; YAML keeps sequences at the key column', () => {
  const list = { apiVersion: 'v1', kind: 'List', items: [{ metadata: { name: 'web', labels: { app: 'web' } } }] };
  assert.equal(renderStructured({ a: [1] }, 'json'), '{\n    "a": [\n        1\n    ]\n}\n');
  assert.equal(renderStructured(list, 'yaml'), 'apiVersion: v1\nkind: List\nitems:\n- metadata:\n    name: web\n    labels:\n      app: web\n');
});
