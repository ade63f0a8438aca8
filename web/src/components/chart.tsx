// A time-series chart (uPlot: canvas, tiny, fast): one x axis of timestamps and a line per series, sized
// to its container. Data updates in place; the chart is rebuilt only when its series change.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Line {
  readonly label: string;
  readonly colour: string;
  readonly values: readonly (number | null)[];
  /** Dashed lines read as secondary. */
  readonly dash?: boolean;
}

export function Chart(props: { title: string; timestamps: readonly number[]; lines: readonly Line[]; unit: string; format: (v: number) => string; min?: number; max?: number; testId: string }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.lines.map((l) => l.label).join('|') + props.unit;

  useEffect(() => {
    const el = host.current!;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 190,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, lo, hi) => [props.min ?? Math.min(0, lo ?? 0), props.max ?? Math.max(hi ?? 1, (props.min ?? 0) + 1e-9) * (props.max === undefined ? 1.1 : 1)] } },
      axes: [
        { stroke: '#8a99a6', grid: { stroke: '#23313d', width: 1 }, ticks: { stroke: '#23313d' } },
        { stroke: '#8a99a6', grid: { stroke: '#23313d', width: 1 }, ticks: { stroke: '#23313d' }, size: 60, values: (_u, vals) => vals.map((v) => props.format(v)) },
      ],
      series: [
        {},
        ...props.lines.map((l) => ({ label: l.label, stroke: l.colour, width: 2, spanGaps: false, ...(l.dash ? { dash: [6, 4] } : {}), value: (_u: uPlot, v: number | null) => (v === null ? '-' : props.format(v)) })),
      ],
    };
    const u = new uPlot(opts, data(props), el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: 190 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data(props));
  }, [props.timestamps, props.lines]);

  const points = props.lines.reduce((n, l) => n + l.values.filter((v) => v !== null).length, 0);
  return (
    <figure class="chart" data-testid={props.testId} data-points={points}>
      <figcaption>
        {props.title} <span class="unit">{props.unit}</span>
      </figcaption>
      <div ref={host} class="plot" />
    </figure>
  );
}

function data(props: { timestamps: readonly number[]; lines: readonly Line[] }): uPlot.AlignedData {
  return [props.timestamps as number[], ...props.lines.map((l) => l.values as (number | null)[])];
}
