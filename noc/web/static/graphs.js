// Interactive graphs over uPlot (installed by npm, served by the app at /vendor/uplot/). Every <figure data-graph>
// holds a data-src URL answering noc.store.series.Graph JSON: instants, series in one unit, thresholds. The server
// picks the resolution for the window asked; nulls are gaps and stay gaps (spanGaps off). Ranges 1h/24h/7d/30d
// refresh themselves while they end now; dragging over the plot, or the from/to form (UTC), asks for that window.
"use strict";

const REFRESH_MS = 60000;
const PREFIXES = ["", "k", "M", "G", "T", "P"];
const COLOURS = ["#1f4e8c", "#067647", "#b54708", "#7a2e8e"];
const THRESHOLD_COLOUR = "#b42318";

function rounded(value) {
  const size = Math.abs(value);
  if (size >= 100) { return value.toFixed(0); }
  if (size >= 10) { return String(Number(value.toFixed(1))); }
  if (value === 0) { return "0"; }
  if (size >= 1) { return String(Number(value.toFixed(2))); }
  return String(Number(value.toPrecision(2)));
}

// A value with its unit, as the server-rendered pages write them (noc/web/units.py).
function withUnit(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) { return "—"; }
  if (unit === "bit/s") {
    let scaled = value;
    let index = 0;
    while (Math.abs(scaled) >= 1000 && index < PREFIXES.length - 1) { scaled /= 1000; index += 1; }
    return `${rounded(scaled)} ${PREFIXES[index]}bit/s`;
  }
  if (unit === "%" && Math.abs(value) >= 10) { return `${Number(value.toFixed(2))} %`; }  // 99.95 %, never 100 %
  return `${rounded(value)} ${unit}`;
}

function isoMinute(seconds) { return new Date(seconds * 1000).toISOString().slice(0, 16); }

function thresholdsPlugin(thresholds) {
  return {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        const { left, top, width, height } = u.bbox;
        ctx.save();
        ctx.strokeStyle = THRESHOLD_COLOUR;
        ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        for (const t of thresholds) {
          const y = Math.round(u.valToPos(t.value, "y", true));
          if (y < top || y > top + height) { continue; }
          ctx.beginPath();
          ctx.moveTo(left, y);
          ctx.lineTo(left + width, y);
          ctx.stroke();
        }
        ctx.restore();
      }],
    },
  };
}

class Graph {
  constructor(figure) {
    this.figure = figure;
    this.plotEl = figure.querySelector(".plot");
    this.statusEl = figure.querySelector(".graph-status");
    this.thresholdsEl = figure.querySelector(".graph-thresholds");
    this.window = { range: figure.dataset.range || "24h" };
    this.timer = null;
    this.plot = null;
    for (const button of figure.querySelectorAll("button[data-range]")) {
      button.addEventListener("click", () => this.load({ range: button.dataset.range }));
    }
    const form = figure.querySelector("form.custom-range");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const start = `${form.elements.start.value}:00Z`;
      const end = `${form.elements.end.value}:00Z`;
      this.load({ start, end });
    });
    window.addEventListener("resize", () => { if (this.plot) { this.plot.setSize(this.size()); } });
  }

  size() { return { width: Math.max(280, this.plotEl.clientWidth), height: 260 }; }

  url() {
    const url = new URL(this.figure.dataset.src, window.location.href);
    if (this.window.range) { url.searchParams.set("range", this.window.range); }
    if (this.window.start) { url.searchParams.set("start", this.window.start); }
    if (this.window.end) { url.searchParams.set("end", this.window.end); }
    return url;
  }

  async load(win) {
    if (win) { this.window = win; }
    clearTimeout(this.timer);
    this.figure.dataset.state = "loading";
    for (const b of this.figure.querySelectorAll("button[data-range]")) {
      b.setAttribute("aria-pressed", String(b.dataset.range === this.window.range));
    }
    let graph;
    try {
      const response = await fetch(this.url(), { credentials: "same-origin", headers: { Accept: "application/json" } });
      graph = await response.json();
      if (!response.ok) { throw new Error(graph.error || response.statusText); }
    } catch (error) {
      this.figure.dataset.state = "error";
      this.statusEl.textContent = `Could not load the graph: ${error.message}`;
      return;
    }
    this.draw(graph);
    if (graph.live && this.window.range) {
      this.timer = setTimeout(() => this.load(), REFRESH_MS);
    }
  }

  draw(graph) {
    const unit = graph.unit;
    const data = [graph.t, ...graph.series.map((s) => s.values)];
    const measured = graph.series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
    const peak = Math.max(0, ...graph.series.flatMap((s) => s.values.filter((v) => v !== null)));
    // A limit far above what was measured (a 10 Gbit/s port carrying 5 Mbit/s) would flatten the lines: it is
    // listed under the graph instead of widening the scale.
    const shown = graph.thresholds.filter((t) => peak === 0 || t.value <= peak * 8);
    const top = Math.max(peak, ...shown.map((t) => t.value));
    const startS = Date.parse(graph.start) / 1000;
    const endS = Date.parse(graph.end) / 1000;
    const options = {
      ...this.size(),
      scales: {
        x: { time: true, min: startS, max: endS },
        y: { range: () => [0, top > 0 ? top * 1.1 : 1] },
      },
      axes: [{}, { size: 80, values: (u, ticks) => ticks.map((v) => withUnit(v, unit)) }],
      series: [
        { value: (u, v) => (v === null ? "—" : new Date(v * 1000).toLocaleString()) },
        ...graph.series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          width: 1.5,
          spanGaps: false,
          value: (u, v) => withUnit(v, unit),
        })),
      ],
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 5) { return; }
          const a = u.posToVal(u.select.left, "x");
          const b = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          this.load({ start: new Date(a * 1000).toISOString(), end: new Date(b * 1000).toISOString() });
        }],
      },
      plugins: [thresholdsPlugin(shown)],
    };
    if (this.plot) { this.plot.destroy(); }
    this.plot = new uPlot(options, data, this.plotEl);
    this.thresholdsEl.replaceChildren(...graph.thresholds.map((t) => {
      const item = document.createElement("li");
      item.className = "threshold";
      item.textContent = `– – ${t.label}: ${withUnit(t.value, unit)}${shown.includes(t) ? "" : " (above the scale)"}`;
      return item;
    }));
    const form = this.figure.querySelector("form.custom-range");
    form.elements.start.value = isoMinute(startS);
    form.elements.end.value = isoMinute(endS);
    const source = { raw: "raw samples", rollup_5m: "5-minute rollups", hourly: "hourly statistics", state_runs: "Δt states" }[graph.source];
    this.statusEl.textContent = measured === 0
      ? `Nothing measured from ${isoMinute(startS)} to ${isoMinute(endS)} UTC.`
      : `${isoMinute(startS)} to ${isoMinute(endS)} UTC · ${source}, a point per ${graph.step_s} s · drag to zoom`;
    Object.assign(this.figure.dataset, {
      state: "ready", points: String(measured), source: graph.source, start: graph.start, end: graph.end,
    });
  }
}

if (typeof uPlot === "undefined") {
  for (const status of document.querySelectorAll("figure[data-graph] .graph-status")) {
    status.textContent = "The chart library is not installed on the server (run make, which runs npm ci).";
  }
} else {
  for (const figure of document.querySelectorAll("figure[data-graph]")) { new Graph(figure).load(); }
}
