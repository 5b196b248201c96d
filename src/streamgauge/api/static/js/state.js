// The view's state lives in the URL, so a link reproduces the view:
// ?range=24h (a preset) or ?from=ISO&to=ISO (custom), &org=, &event=, &project=.

export const PRESETS = {
  "15m": 15 * 60,
  "1h": 3600,
  "24h": 24 * 3600,
  "7d": 7 * 24 * 3600,
  "30d": 30 * 24 * 3600,
};
export const DEFAULT_RANGE = "24h";

function isoOrNull(text) {
  if (!text) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date.toISOString().replace(".000Z", "Z");
}

export function readState(search = window.location.search) {
  const params = new URLSearchParams(search);
  const from = isoOrNull(params.get("from"));
  const to = isoOrNull(params.get("to"));
  const custom = from !== null && to !== null && new Date(from) < new Date(to);
  const range = params.get("range");
  return {
    range: custom ? "custom" : range in PRESETS ? range : DEFAULT_RANGE,
    from: custom ? from : null,
    to: custom ? to : null,
    org: params.get("org") || null,
    event: params.get("event") || null,
    project: params.get("project") || null,
  };
}

export function stateToSearch(state) {
  const params = new URLSearchParams();
  if (state.project) params.set("project", state.project);
  if (state.range === "custom") {
    params.set("from", state.from);
    params.set("to", state.to);
  } else {
    params.set("range", state.range);
  }
  if (state.org) params.set("org", state.org);
  if (state.event) params.set("event", state.event);
  return `?${params.toString()}`;
}

/** Change the state and the URL together (one history entry per user action). */
export function writeState(state, { replace = false } = {}) {
  const url = `${window.location.pathname}${stateToSearch(state)}`;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
}

function iso(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The absolute window a refresh shows, and the period before it of the same length.
 * Presets end now (to the second), so every query of one refresh sees the same range.
 */
export function resolveWindow(state, now = new Date()) {
  let start;
  let end;
  if (state.range === "custom") {
    start = new Date(state.from);
    end = new Date(state.to);
  } else {
    end = new Date(Math.floor(now.getTime() / 1000) * 1000);
    start = new Date(end.getTime() - PRESETS[state.range] * 1000);
  }
  const span = end.getTime() - start.getTime();
  const previousStart = new Date(start.getTime() - span);
  return {
    start: iso(start),
    end: iso(end),
    previousStart: iso(previousStart),
    seconds: span / 1000,
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  };
}

/** DSL filters for the organization and event chosen (the project comes from the key). */
export function stateFilters(state, { org = true, event = true } = {}) {
  const filters = [];
  if (org && state.org) filters.push({ field: "organization_id", op: "eq", value: state.org });
  if (event && state.event) filters.push({ field: "event", op: "eq", value: state.event });
  return filters;
}
