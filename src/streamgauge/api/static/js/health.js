// Ingestion health from the server's own metrics: accepted, rejected, duplicates, sink lag.

import { formatAge, formatCount } from "./format.js";

export function renderHealth(root, health) {
  if (!health) {
    root.hidden = true;
    return;
  }
  root.hidden = false;
  const lag = Math.max(0, ...health.sinks.map((s) => s.lag_events));
  const lagSeconds = Math.max(0, ...health.sinks.map((s) => s.lag_seconds));
  const failures = health.sinks.reduce((sum, s) => sum + s.failures, 0);
  const values = {
    accepted: formatCount(health.accepted),
    rejected: formatCount(health.rejected),
    duplicates: formatCount(health.duplicates),
    refused: formatCount(health.refused),
    lag: lag === 0 ? "caught up" : `${formatCount(lag)} events · ${formatAge(lagSeconds)}`,
    head: formatCount(health.log_head),
  };
  for (const [name, text] of Object.entries(values)) {
    const el = root.querySelector(`[data-health="${name}"]`);
    el.textContent = text;
    el.dataset.value = String(name === "lag" ? lag : health[name === "head" ? "log_head" : name]);
  }
  const state = failures > 0 || lagSeconds > 5 ? "bad" : lag > 0 ? "busy" : "ok";
  root.dataset.state = state;
  root.querySelector("[data-role=health-state]").textContent =
    state === "ok" ? "healthy" : state === "busy" ? "catching up" : "sink behind";
}
