/**
 * A line chart drawn by uPlot (a real chart library, ~50 KB, canvas), sized
 * to its container so it works from 375 px up. The numbers it plots are also
 * written as text by every page; the chart is an addition, labelled for
 * screen readers by its title. data-points carries the number of x values
 * (the browser test counts the loss curve's points with it).
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Series {
  label: string;
  values: Array<number | null>;
  color: string;
  dash?: number[];
}

export interface ChartProps {
  title: string;
  x: number[];
  series: Series[];
  /** x values are unix seconds (time axis) */
  time?: boolean;
  xLabel?: string;
  yLabel?: string;
  height?: number;
}

/** Dots on sparse series (a few rounds, a few samples) where a line alone could be invisible; none on dense ones. */
function dots(s: Series): boolean {
  return s.values.filter((v) => v !== null).length <= 40;
}

function options(p: ChartProps, width: number): uPlot.Options {
  return {
    width,
    height: p.height ?? 220,
    scales: { x: { time: p.time === true } },
    axes: [
      { label: p.xLabel, stroke: '#555', grid: { stroke: '#eee' }, ...(p.time === true ? {} : { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }) },
      { label: p.yLabel, stroke: '#555', grid: { stroke: '#eee' }, size: 56 },
    ],
    series: [{ label: p.xLabel ?? 'x' }, ...p.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, ...(s.dash === undefined ? {} : { dash: s.dash }), points: { show: dots(s), size: 6 }, spanGaps: true }))],
    // labels only: the numbers are in the page's text, and a live legend shows "--" until hovered
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
  };
}

export function LineChart(p: ChartProps): VNode {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${p.series.map((s) => `${s.label}:${dots(s)}`).join('\n')}\n${p.height ?? 220}`;
  const data = [p.x, ...p.series.map((s) => s.values)] as uPlot.AlignedData;

  // (re)build when the series change; only new data otherwise
  useEffect(() => {
    const el = box.current;
    if (el === null) return undefined;
    const u = new uPlot(options(p, Math.max(200, el.clientWidth)), data, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: p.height ?? 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // rebuilt only when the series' shape changes; new data goes through setData below
  }, [shape]);
  useEffect(() => {
    plot.current?.setData(data);
  });
  return html`<figure class="chart">
    <figcaption>${p.title}</figcaption>
    <div ref=${box} class="chart-box" role="img" aria-label=${p.title} data-points=${p.x.length}></div>
  </figure>`;
}
