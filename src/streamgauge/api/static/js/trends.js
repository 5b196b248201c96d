// The charts over time: request volume, latency percentiles, error rate, active users, usage by SKU.

import { epoch, TimeChart } from "./charts.js";
import { formatCount, formatMs, formatPercent, formatQuantity } from "./format.js";

const TWO_DAYS = 2 * 24 * 3600;

export function createTrends(root) {
  const chart = (name, options) => new TimeChart(root.querySelector(`[data-chart="${name}"]`), options);
  return {
    volume: chart("volume", { format: formatCount, kind: "bars" }),
    latency: chart("latency", { format: formatMs }),
    errors: chart("errors", { format: formatPercent, fill: true }),
    users: chart("users", { format: formatCount, fill: true }),
    usage: chart("usage", { format: formatQuantity, log: true }),
    caption: (name, text) => {
      root.querySelector(`[data-caption="${name}"]`).textContent = text;
    },
  };
}

/** Active users per day over ranges of two days or more (DAU), per automatic bucket below. */
function usersBucket(seconds) {
  return seconds >= TWO_DAYS ? "day" : "auto";
}

export async function loadTrends(api, range, seconds) {
  const timed = [...range.filters, { field: "duration_ms", op: "exists" }];
  const metered = [...range.filters, { field: "usage_quantity", op: "exists" }];
  const [traffic, errors, users, usage] = await Promise.all([
    api.query({
      ...range,
      filters: timed,
      groupBy: "auto",
      fill: true,
      metrics: [
        { metric: "count", as: "requests" },
        { metric: "p50(duration_ms)", as: "p50_ms" },
        { metric: "p95(duration_ms)", as: "p95_ms" },
        { metric: "p99(duration_ms)", as: "p99_ms" },
      ],
    }),
    api.template("errors", { ...range, groupBy: "auto" }),
    api.query({
      ...range,
      groupBy: usersBucket(seconds),
      fill: true,
      metrics: [{ metric: "uniq(user_id)", as: "active_users" }],
    }),
    api.query({
      ...range,
      filters: metered,
      groupBy: "auto",
      fill: true,
      dimensions: ["usage_sku", "usage_unit"],
      metrics: [{ metric: "sum(usage_quantity)", as: "quantity" }],
      orderBy: [{ field: "time" }],
    }),
  ]);
  return { traffic, errors, users, usage, usersBucket: usersBucket(seconds) };
}

function pivotUsage(rows) {
  const times = [...new Set(rows.map(epoch))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const series = new Map();
  for (const row of rows) {
    const label = `${row.usage_sku} (${row.usage_unit})`;
    if (!series.has(label)) series.set(label, new Array(times.length).fill(0));
    series.get(label)[index.get(epoch(row))] += row.quantity ?? 0;
  }
  const labels = [...series.keys()].sort();
  return { times, labels, columns: labels.map((label) => series.get(label)) };
}

export function renderTrends(trends, data) {
  const { traffic, errors, users, usage } = data;
  const xs = traffic.map(epoch);
  trends.volume.update(xs, ["requests"], [traffic.map((r) => r.requests)]);
  trends.latency.update(
    xs,
    ["P50", "P95", "P99"],
    [traffic.map((r) => r.p50_ms), traffic.map((r) => r.p95_ms), traffic.map((r) => r.p99_ms)],
  );
  trends.errors.update(errors.map(epoch), ["error rate"], [errors.map((r) => r.error_rate)]);
  trends.users.update(users.map(epoch), ["active users"], [users.map((r) => r.active_users)]);
  trends.caption("users", data.usersBucket === "day" ? "daily (DAU)" : "per bucket");
  const pivot = pivotUsage(usage);
  trends.usage.update(pivot.times, pivot.labels, pivot.columns);
}
