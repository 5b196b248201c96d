// Number, time and change formatting: one place, so every widget reads the same.

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

export function formatCount(value) {
  if (value === null || value === undefined) return "–";
  return Math.abs(value) >= 100000 ? compact.format(value) : integer.format(value);
}

export function formatQuantity(value) {
  if (value === null || value === undefined) return "–";
  return Math.abs(value) >= 10000 ? compact.format(value) : decimal.format(value);
}

/** Short, for narrow columns: 1,234 → 1.2K. */
export function formatCompact(value) {
  if (value === null || value === undefined) return "–";
  return Math.abs(value) >= 1000 ? compact.format(value) : decimal.format(value);
}

export function formatMs(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (value >= 1000) return `${decimal.format(value / 1000)} s`;
  return `${value >= 100 ? integer.format(value) : decimal.format(value)} ms`;
}

export function formatPercent(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const percent = value * 100;
  const digits = percent !== 0 && Math.abs(percent) < 1 ? 2 : 1;
  return `${percent.toFixed(digits)}%`;
}

/** The relative change from `previous` to `current`, or null when it has no meaning. */
export function relativeChange(current, previous) {
  if (current === null || previous === null || current === undefined || previous === undefined) {
    return null;
  }
  if (previous === 0) return current === 0 ? 0 : null;
  return (current - previous) / Math.abs(previous);
}

export function formatChange(change) {
  if (change === null) return "new";
  if (change === 0) return "±0%";
  const arrow = change > 0 ? "▲" : "▼";
  const percent = Math.abs(change * 100);
  if (percent >= 1000) return `${arrow} ×${integer.format(Math.abs(change) + 1)}`;
  return `${arrow} ${percent >= 10 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

const timeOfDay = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const dateTime = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

export function formatClock(iso) {
  return timeOfDay.format(new Date(iso));
}

export function formatDateTime(date) {
  return dateTime.format(date);
}

export function formatAge(seconds) {
  if (seconds < 1) return "now";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${decimal.format(seconds / 3600)} h`;
}
