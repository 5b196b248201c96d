// Headline numbers of the range, each against the period of the same length just before it.

import {
  formatChange,
  formatCount,
  formatMs,
  formatPercent,
  formatQuantity,
  relativeChange,
} from "./format.js";

// `worse`: which direction of change is bad news (coloured as such).
const CARDS = [
  { metric: "requests", format: formatCount, worse: null },
  { metric: "p95_ms", format: formatMs, worse: "up" },
  { metric: "error_rate", format: formatPercent, worse: "up" },
  { metric: "active_users", format: formatCount, worse: "down" },
  { metric: "usage_events", format: formatCount, worse: null },
];

/** Usage rows (organization × SKU × unit, from the `usage` template) summed per SKU. */
export function usageBySku(rows) {
  const skus = new Map();
  for (const row of rows) {
    const key = row.usage_sku ?? "(none)";
    const entry = skus.get(key) ?? { sku: key, unit: row.usage_unit, quantity: 0, events: 0 };
    entry.quantity += row.quantity;
    entry.events += row.events;
    skus.set(key, entry);
  }
  return [...skus.values()].sort((a, b) => b.quantity - a.quantity);
}

/** The headline numbers of one period, from the templates and the DSL. */
export async function periodNumbers(api, range) {
  const [performance, errors, people, usage] = await Promise.all([
    api.template("performance", { ...range, groupBy: "none" }),
    api.template("errors", { ...range, groupBy: "none" }),
    api.query({ ...range, metrics: [{ metric: "uniq(user_id)", as: "active_users" }] }),
    api.template("usage", { start: range.start, end: range.end, filters: range.filters }),
  ]);
  const first = (rows) => rows[0] ?? {};
  return {
    requests: first(performance).requests ?? 0,
    p95_ms: first(performance).p95_ms ?? null,
    error_rate: first(errors).error_rate ?? null,
    active_users: first(people).active_users ?? 0,
    usage_events: usage.reduce((sum, row) => sum + row.events, 0),
    usage: usage,
  };
}

export function renderHeadline(root, current, previous) {
  for (const card of CARDS) {
    const el = root.querySelector(`[data-metric="${card.metric}"]`);
    const value = current[card.metric];
    const output = el.querySelector(".value");
    output.textContent = card.format(value);
    output.dataset.value = value === null ? "" : String(value);
    const change = relativeChange(value, previous[card.metric]);
    const note = el.querySelector(".change");
    note.textContent = value === null ? "" : formatChange(change);
    note.dataset.change = change === null ? "" : String(change);
    const direction = change === null || change === 0 ? "flat" : change > 0 ? "up" : "down";
    note.className = `change ${direction}${card.worse === direction ? " bad" : ""}`;
    note.title = `previous period: ${card.format(previous[card.metric])}`;
  }
  const detail = root.querySelector('[data-metric="usage_events"] .detail');
  detail.replaceChildren(
    ...usageBySku(current.usage).map((entry) => {
      const line = document.createElement("span");
      line.textContent = `${entry.sku}: ${formatQuantity(entry.quantity)} ${entry.unit ?? ""}`;
      return line;
    }),
  );
}
