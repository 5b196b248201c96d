// The live tail: the newest events the key may see, newest first.

import { formatClock, formatMs } from "./format.js";

const ROWS = 12;

export async function loadTail(api, range) {
  return api.recent({ ...range, limit: ROWS });
}

function describe(row) {
  if (row.path) return `${row.method ?? ""} ${row.path}`.trim();
  if (row.usage_sku) return `${row.usage_quantity} ${row.usage_unit ?? ""} ${row.usage_sku}`;
  return "";
}

function status(row) {
  if (row.status_code === null) return "";
  return String(row.status_code);
}

export function renderTail(table, rows, seen) {
  const body = table.tBodies[0];
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 6;
    td.className = "empty";
    td.textContent = "No events in this range yet";
    tr.append(td);
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement("tr");
      if (seen.size > 0 && !seen.has(row.event_id)) tr.className = "fresh";
      const code = status(row);
      const cells = [
        [formatClock(row.timestamp), ""],
        [row.event, "event"],
        [row.organization_id ?? "", ""],
        [describe(row), "detail"],
        [code, `num ${row.status_code >= 500 || row.error ? "bad" : ""}`],
        [row.duration_ms === null ? "" : formatMs(row.duration_ms), "num"],
      ];
      for (const [text, className] of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        if (className.trim()) td.className = className.trim();
        tr.append(td);
      }
      tr.title = row.error ? `${row.event_id}: ${row.error}` : row.event_id;
      return tr;
    }),
  );
  seen.clear();
  for (const row of rows) seen.add(row.event_id);
}
