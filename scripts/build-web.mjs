#!/usr/bin/env node
// Builds the dashboard's front end (web/) into dist/web: one JavaScript bundle and one stylesheet with
// content hashes in their names (served as immutable), and index.html pointing at them. esbuild bundles
// Preact, uPlot and our code; nothing is fetched from anywhere at run time.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
const assets = join(out, 'assets');

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
const result = await build({
  entryPoints: [join(root, 'web', 'src', 'main.tsx')],
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: assets,
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'linked',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`esbuild made no ${js ? 'stylesheet' : 'bundle'}: ${outputs.join(', ')}`);
const html = readFileSync(join(root, 'web', 'index.html'), 'utf8').replace('%APP_JS%', `/assets/${js}`).replace('%APP_CSS%', `/assets/${css}`);
writeFileSync(join(out, 'index.html'), html);
writeFileSync(join(out, 'favicon.svg'), readFileSync(join(root, 'web', 'favicon.svg')));
process.stderr.write(`web: built dist/web (${js}, ${css})\n`);
