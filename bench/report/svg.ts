// A small SVG line chart writer for the results page: latency (log scale) by percentile, one line per
// scenario. Plain strings, no chart library: the page only needs one kind of chart.

export interface Series {
  readonly name: string;
  /** One value per x label; null leaves a gap. */
  readonly values: ReadonlyArray<number | null>;
  /** Drawn thicker (Fathom's own lines). */
  readonly emphasis?: boolean;
}

const COLOURS = ['#555555', '#d62728', '#ff7f0e', '#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function tickLabel(v: number): string {
  return v >= 1 ? String(Number(v.toPrecision(3))) : String(Number(v.toPrecision(2)));
}

export function lineChartSvg(title: string, xLabels: readonly string[], series: readonly Series[], yTitle = 'latency (ms, log scale)'): string {
  const width = 760;
  const height = 420;
  const m = { left: 64, right: 220, top: 44, bottom: 56 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && v > 0));
  const lo = 10 ** Math.floor(Math.log10(all.length ? Math.min(...all) : 0.1));
  const hi = 10 ** Math.ceil(Math.log10(all.length ? Math.max(...all) : 10));
  const top = hi > lo ? hi : lo * 10;
  const y = (v: number): number => m.top + plotH - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(top) - Math.log10(lo))) * plotH;
  const x = (i: number): number => m.left + (xLabels.length === 1 ? plotW / 2 : (i / (xLabels.length - 1)) * plotW);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="24" font-size="15" font-weight="bold">${escape(title)}</text>`);
  // Horizontal grid at 1, 2 and 5 of each decade; labels on those.
  for (let decade = lo; decade < top * 1.0001; decade *= 10) {
    for (const k of [1, 2, 5]) {
      const v = decade * k;
      if (v > top * 1.0001) break;
      const yy = y(v).toFixed(1);
      out.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${yy}" y2="${yy}" stroke="${k === 1 ? '#bbbbbb' : '#e5e5e5'}"/>`);
      out.push(`<text x="${m.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#444">${tickLabel(v)}</text>`);
    }
  }
  xLabels.forEach((label, i) => {
    const xx = x(i).toFixed(1);
    out.push(`<line x1="${xx}" x2="${xx}" y1="${m.top}" y2="${m.top + plotH}" stroke="#eeeeee"/>`);
    out.push(`<text x="${xx}" y="${m.top + plotH + 18}" text-anchor="middle" fill="#444">${escape(label)}</text>`);
  });
  out.push(`<text x="${m.left + plotW / 2}" y="${height - 12}" text-anchor="middle" fill="#444">percentile</text>`);
  out.push(`<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#444">${escape(yTitle)}</text>`);
  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);

  series.forEach((s, si) => {
    const colour = COLOURS[si % COLOURS.length]!;
    const stroke = s.emphasis ? 3 : 1.5;
    let path = '';
    s.values.forEach((v, i) => {
      if (v === null || !(v > 0)) return;
      path += `${path ? ' L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)}`;
    });
    if (path) out.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`);
    s.values.forEach((v, i) => {
      if (v !== null && v > 0) out.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="${s.emphasis ? 4 : 3}" fill="${colour}"><title>${escape(`${s.name} ${xLabels[i]}: ${v} ms`)}</title></circle>`);
    });
    const ly = m.top + 10 + si * 20;
    const lx = m.left + plotW + 16;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="${stroke}"/>`);
    out.push(`<text x="${lx + 28}" y="${ly}" dominant-baseline="middle"${s.emphasis ? ' font-weight="bold"' : ''}>${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
