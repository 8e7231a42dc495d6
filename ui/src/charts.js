// uPlot charts: time series on canvas, fast for thousands of points, ~50 KB, no dependencies.
// Colours are the Okabe-Ito palette (distinguishable with every common colour-vision
// deficiency); past eight series, dash patterns tell lines apart as well.

import uPlot from 'uplot';
import { kstDate, kstTicks } from './times.js';

export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#000000', '#F0E442'];
const DASHES = [[], [8, 4], [2, 3], [10, 3, 2, 3]];
const HEIGHT = 240;

const bytes = (v) => (v === null || v === undefined ? '–' : `${Math.round(v).toLocaleString('en')} B`);
const kstAxis = { label: 'KST (+09:00)', labelSize: 18, values: kstTicks, space: 60 };

function widthOf(el) {
  return Math.max(240, Math.floor(el.getBoundingClientRect().width || el.parentElement.clientWidth || 480));
}

// Keep the chart as wide as its box (tablet rotation, window resize).
function mount(el, options, data) {
  el.replaceChildren();
  const chart = new uPlot({ ...options, width: widthOf(el), height: HEIGHT }, data, el);
  el.chart = chart; // the tests read the series from here
  const observer = new ResizeObserver(() => {
    const width = widthOf(el);
    if (Math.abs(width - chart.width) > 2) chart.setSize({ width, height: HEIGHT });
  });
  observer.observe(el);
  return chart;
}

// The class's code size over time: the p25-p75 band and the median.
export function sizeBandChart(el, points) {
  const x = points.map((p) => p.time_s);
  const data = [x, points.map((p) => p.p75), points.map((p) => p.median), points.map((p) => p.p25)];
  return mount(el, {
    tzDate: kstDate(uPlot),
    scales: { x: { time: true } },
    axes: [kstAxis, { values: (u, ticks) => ticks.map((v) => `${v.toLocaleString('en')}`), size: 60, label: 'bytes', labelSize: 18 }],
    series: [
      { label: 'KST' },
      { label: 'p75', stroke: '#0072B2', width: 1, dash: [4, 3], points: { show: false }, value: (u, v) => bytes(v) },
      { label: 'median', stroke: '#0072B2', width: 2.5, points: { show: false }, value: (u, v) => bytes(v) },
      { label: 'p25', stroke: '#0072B2', width: 1, dash: [4, 3], points: { show: false }, value: (u, v) => bytes(v) },
    ],
    bands: [{ series: [1, 3], fill: 'rgba(0, 114, 178, 0.18)' }],
  }, data);
}

// Churn of each student over the window (the legacy total_graph_data), largest first.
export function churnChart(el, results) {
  const sorted = [...results].sort((a, b) => b.size_change - a.size_change || a.student_num - b.student_num);
  const x = sorted.map((_, i) => i + 1);
  return mount(el, {
    scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] } },
    axes: [
      { label: 'students, by churn', labelSize: 18, values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? t : '')) },
      { size: 60, label: 'bytes changed', labelSize: 18 },
    ],
    series: [
      { label: 'student', value: (u, v) => (v ? String(sorted[v - 1]?.student_num ?? '') : '–') },
      {
        label: 'churn', stroke: '#D55E00', fill: 'rgba(213, 94, 0, 0.55)', width: 1,
        paths: uPlot.paths.bars({ size: [0.8, 24] }), points: { show: false }, value: (u, v) => bytes(v),
      },
    ],
  }, [x, sorted.map((r) => r.size_change)]);
}

// A student's code size per file: one stepped series per file, one point per save.
export function fileSizeChart(el, files) {
  // Saves of one file within one second get distinct x values, so every save stays a point.
  const columns = new Map();
  files.forEach((file, i) => {
    let previous = -Infinity;
    for (const save of file.saves) {
      let t = save.time_s;
      if (t <= previous) t = previous + 0.001;
      previous = t;
      if (!columns.has(t)) columns.set(t, new Array(files.length).fill(null));
      columns.get(t)[i] = save.size;
    }
  });
  const x = [...columns.keys()].sort((a, b) => a - b);
  const data = [x, ...files.map((_, i) => x.map((t) => columns.get(t)[i]))];
  return mount(el, {
    tzDate: kstDate(uPlot),
    scales: { x: { time: true } },
    axes: [kstAxis, { size: 60, label: 'bytes', labelSize: 18 }],
    series: [
      { label: 'KST' },
      ...files.map((file, i) => ({
        label: file.name,
        stroke: PALETTE[i % PALETTE.length],
        dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length],
        width: 2,
        spanGaps: true,
        paths: uPlot.paths.stepped({ align: 1 }),
        points: { show: true, size: 5 },
        value: (u, v) => bytes(v),
      })),
    ],
  }, data);
}
