// Ranked tables: top endpoints, top errors, top organizations by usage.

import { formatCompact, formatCount, formatMs, formatPercent } from "./format.js";
import { usageBySku } from "./headline.js";

const TOP = 10;

export async function loadTables(api, range) {
  const [endpoints, errors] = await Promise.all([
    api.query({
      ...range,
      filters: [...range.filters, { field: "duration_ms", op: "exists" }],
      dimensions: ["method", "path"],
      metrics: [
        { metric: "count", as: "requests" },
        { metric: "p95(duration_ms)", as: "p95_ms" },
        { metric: "error_rate", as: "error_rate" },
      ],
      orderBy: [{ field: "requests", desc: true }],
      limit: TOP,
    }),
    api.template("errors", { ...range, by: "error", limit: TOP }),
  ]);
  return { endpoints, errors };
}

/** A `<td>`; numeric cells align right. */
function cell(text, { numeric = false, title } = {}) {
  const td = document.createElement("td");
  td.textContent = text;
  if (numeric) td.className = "num";
  if (title) td.title = title;
  return td;
}

function fillBody(table, rows, toCells, empty) {
  const body = table.tBodies[0];
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = cell(empty);
    td.colSpan = table.tHead.rows[0].cells.length;
    td.className = "empty";
    tr.append(td);
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.append(...toCells(row));
      return tr;
    }),
  );
}

/** Organizations ranked by usage events, with their quantity of the leading SKUs. */
export function organizationsByUsage(usageRows) {
  const skus = usageBySku(usageRows).slice(0, 3);
  const orgs = new Map();
  for (const row of usageRows) {
    const id = row.organization_id ?? "(none)";
    const entry = orgs.get(id) ?? { id, events: 0, bySku: new Map() };
    entry.events += row.events;
    entry.bySku.set(row.usage_sku, (entry.bySku.get(row.usage_sku) ?? 0) + row.quantity);
    orgs.set(id, entry);
  }
  const ranked = [...orgs.values()].sort((a, b) => b.events - a.events || (a.id < b.id ? -1 : 1));
  return { skus, rows: ranked.slice(0, TOP) };
}

export function renderTables(root, data, usageRows) {
  fillBody(
    root.querySelector("[data-table=endpoints]"),
    data.endpoints,
    (r) => [
      cell(`${r.method ?? ""} ${r.path ?? ""}`.trim(), { title: `${r.method} ${r.path}` }),
      cell(formatCount(r.requests), { numeric: true }),
      cell(formatMs(r.p95_ms), { numeric: true }),
      cell(formatPercent(r.error_rate), { numeric: true }),
    ],
    "No requests in this range",
  );
  fillBody(
    root.querySelector("[data-table=errors]"),
    data.errors,
    (r) => [cell(r.error ?? "(no message)", { title: r.error }), cell(formatCount(r.errors), { numeric: true })],
    "No errors in this range",
  );
  const orgTable = root.querySelector("[data-table=organizations]");
  const { skus, rows } = organizationsByUsage(usageRows);
  const head = orgTable.tHead.rows[0];
  const headings = [["Organization"], ["Usage events"], ...skus.map((s) => [s.sku, s.unit])];
  head.replaceChildren(
    ...headings.map(([text, unit], i) => {
      const th = document.createElement("th");
      th.textContent = text;
      if (unit) {
        const small = document.createElement("small");
        small.textContent = unit;
        th.append(small);
      }
      if (i > 0) th.className = "num";
      return th;
    }),
  );
  fillBody(
    orgTable,
    rows,
    (r) => [
      cell(r.id),
      cell(formatCount(r.events), { numeric: true }),
      ...skus.map((s) => cell(formatCompact(r.bySku.get(s.sku) ?? 0), { numeric: true })),
    ],
    "No usage in this range",
  );
}
