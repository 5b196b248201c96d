// Time-series charts drawn by uPlot (vendored: /static/vendor/uplot), themed from CSS variables.

const uPlot = globalThis.uPlot;
const HEIGHT = 200;
const dark = window.matchMedia("(prefers-color-scheme: dark)");
const charts = new Set();

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function palette() {
  return [1, 2, 3, 4, 5, 6].map((i) => cssVar(`--series-${i}`));
}

/** Epoch seconds of a row's `time` (ISO-8601). */
export function epoch(row) {
  return new Date(row.time).getTime() / 1000;
}

export class TimeChart {
  /**
   * `el`: the container; `format`: how values read on the axis and legend;
   * `kind`: "line" or "bars"; `log`: a logarithmic y axis (for series of different units).
   */
  constructor(el, { format, kind = "line", log = false, fill = false }) {
    this.el = el;
    this.format = format;
    this.kind = kind;
    this.log = log;
    this.fill = fill;
    this.plot = null;
    this.labels = [];
    this.data = [[]];
    charts.add(this);
    new ResizeObserver(() => this.resize()).observe(el);
  }

  /** Show `xs` (epoch seconds) against one array per label. */
  update(xs, labels, columns) {
    const shape = labels.join("\u0000");
    this.data = [xs, ...columns.map((column) => (this.log ? column.map(positiveOrNull) : column))];
    this.el.dataset.points = String(xs.length);
    if (this.plot && shape === this.labels.join("\u0000")) {
      this.plot.setData(this.data);
      return;
    }
    this.labels = labels;
    this.rebuild();
  }

  rebuild() {
    if (this.plot) this.plot.destroy();
    this.el.replaceChildren();
    this.plot = new uPlot(this.options(), this.data, this.el);
  }

  resize() {
    if (!this.plot) return;
    const width = Math.max(this.el.clientWidth, 120);
    if (width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
  }

  options() {
    const colors = palette();
    const muted = cssVar("--muted");
    const grid = cssVar("--grid");
    const format = this.format;
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const series = this.labels.map((label, i) => ({
      label,
      stroke: colors[i % colors.length],
      width: 2,
      fill: this.fill || this.kind === "bars" ? `${colors[i % colors.length]}40` : undefined,
      paths: this.kind === "bars" ? uPlot.paths.bars({ size: [0.8, 24], gap: 1 }) : undefined,
      points: { show: false },
      spanGaps: this.log,
      value: (u, v) => (v === null || v === undefined ? "" : format(v)),
    }));
    const y = this.log
      ? { distr: 3, log: 10 }
      : { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] };
    return {
      width: Math.max(this.el.clientWidth, 120),
      height: HEIGHT,
      padding: [10, 12, 0, 4],
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { show: this.labels.length > 1, live: true },
      scales: { x: { time: true }, y },
      axes: [
        { ...axis, space: 60 },
        {
          ...axis,
          size: 64,
          splits: this.log ? powersOfTen : undefined,
          filter: this.log ? (u, splits) => splits : undefined,
          values: (u, values) => values.map((v) => (v === null ? "" : format(v))),
        },
      ],
      series: [{ value: (u, v) => (v ? new Date(v * 1000).toLocaleString() : "") }, ...series],
    };
  }
}

/** Log-axis ticks at whole powers of ten only: readable at any height. */
function powersOfTen(u, axis, min, max) {
  const ticks = [];
  for (let p = Math.floor(Math.log10(min)); p <= Math.ceil(Math.log10(max)); p++) ticks.push(10 ** p);
  return ticks;
}

function positiveOrNull(value) {
  return value > 0 ? value : null;
}

/** Redraw every chart in the other colours when the system switches light/dark. */
dark.addEventListener("change", () => {
  for (const chart of charts) if (chart.plot) chart.rebuild();
});
