import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchMaxRate } from '../search.js';
import { BEGIN, END, spliceSection } from './docs.js';
import { lineChartSvg } from './svg.js';

test('the generated section replaces only what is between the markers', () => {
  const page = `# Performance\n\nintro\n\n${BEGIN}\nold\n${END}\n\n## Optimisation log\n\nentry\n`;
  const out = spliceSection(page, 'new');
  assert.equal(out, `# Performance\n\nintro\n\n${BEGIN}\nnew\n${END}\n\n## Optimisation log\n\nentry\n`);
  assert.equal(spliceSection(out, 'newer').match(/bench:begin/g)!.length, 1);
  // Without markers: before the optimisation log.
  assert.match(spliceSection('# P\n\n## Optimisation log\n', 'x'), new RegExp(`${BEGIN}\\nx\\n${END}\\n\\n## Optimisation log`));
});

test('the max-rate search doubles, then bisects to 10 %', async () => {
  const capacity = 5600;
  const tried: number[] = [];
  const { best, steps } = await searchMaxRate(
    { startRate: 1000, maxRate: 32_000, minRate: 125, p99LimitMs: 10, resolution: 1.1, maxSteps: 12 },
    async (rate) => {
      tried.push(rate);
      return { p99_ms: rate <= capacity ? 2 : 50, achieved_rps: rate, errors: 0, detail: rate };
    },
  );
  assert.deepEqual(tried.slice(0, 4), [1000, 2000, 4000, 8000]);
  assert.ok(best && best.rate <= capacity && best.rate >= capacity / 1.1, `best ${best?.rate}`);
  assert.equal(steps.length, tried.length);
});

test('the search goes down when the start rate fails, and errors fail a step', async () => {
  const { best } = await searchMaxRate({ startRate: 1000, maxRate: 32_000, minRate: 125, p99LimitMs: 10, resolution: 1.1, maxSteps: 12 }, async (rate) => ({
    p99_ms: 1,
    achieved_rps: rate,
    errors: rate > 300 ? 1 : 0,
    detail: rate,
  }));
  assert.ok(best && best.rate >= 250 && best.rate <= 300, `best ${best?.rate}`);
});

test('the chart is well-formed SVG with one line and legend entry per series', () => {
  const svg = lineChartSvg('t <&>', ['p50', 'p99', 'max'], [
    { name: 'direct', values: [0.1, 1, 5] },
    { name: 'fathom-1hop', values: [0.3, null, 9], emphasis: true },
  ]);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /t &lt;&amp;&gt;/);
  assert.equal(svg.match(/<path /g)!.length, 2);
  assert.ok(svg.includes('>fathom-1hop</text>'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});
