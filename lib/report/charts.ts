// Charts as static SVG: Vega-Lite specs compiled and rendered by Vega in Node (no browser, no canvas),
// so report.html needs no script to show them.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
}

export interface Chart {
  id: string;
  title: string;
  svg: string;
  /** Marks drawn: points for line charts, bars for bar charts (tests count them in the page). */
  marks: number;
}

const WIDTH = 420;
const HEIGHT = 200;

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A line chart with a point on every value; non-finite values are left out (and not counted). */
export async function lineChart(o: { id: string; title: string; x: string; y: string; series: Series[]; logY?: boolean; pointSize?: number; integerX?: boolean }): Promise<Chart> {
  const values = o.series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!o.logY || p.y > 0))
    .map((p) => ({ x: p.x, y: p.y, series: s.name })));
  const spec: TopLevelSpec = {
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    title: o.title,
    data: { values },
    mark: { type: 'line', point: { size: o.pointSize ?? 24, filled: true }, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.x, scale: { zero: false }, ...(o.integerX ? { axis: { tickMinStep: 1, format: 'd' } } : {}) },
      y: { field: 'y', type: 'quantitative', title: o.y, scale: o.logY ? { type: 'log' } : { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, sort: o.series.map((s) => s.name), legend: { orient: 'bottom' } },
    },
  };
  return { id: o.id, title: o.title, svg: await toSvg(spec), marks: values.length };
}

export async function barChart(o: { id: string; title: string; x: string; y: string; bars: Array<{ label: string; value: number }>; domain?: [number, number] }): Promise<Chart> {
  const values = o.bars.filter((b) => Number.isFinite(b.value)).map((b) => ({ label: b.label, value: b.value }));
  const spec: TopLevelSpec = {
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    title: o.title,
    data: { values },
    mark: { type: 'bar', color: '#4393c3' },
    encoding: {
      x: { field: 'label', type: 'nominal', title: o.x, sort: null, axis: { labelAngle: -40 } },
      y: { field: 'value', type: 'quantitative', title: o.y, ...(o.domain ? { scale: { domain: o.domain } } : {}) },
    },
  };
  return { id: o.id, title: o.title, svg: await toSvg(spec), marks: values.length };
}
