// The dashboard: who is asking, what to show (the URL), refreshes when the server says
// something new was committed. Every number comes from the query API.

import { bindControls, loadFilterOptions, renderFilters, renderRange } from "./controls.js";
import { formatDateTime } from "./format.js";
import { periodNumbers, renderHeadline } from "./headline.js";
import { renderHealth } from "./health.js";
import { followLive } from "./live.js";
import { forgetKey, knownProjects, openSession, promptForKey } from "./session.js";
import { readState, resolveWindow, stateFilters, stateToSearch, writeState } from "./state.js";
import { loadTables, renderTables } from "./tables.js";
import { loadTail, renderTail } from "./tail.js";
import { createTrends, loadTrends, renderTrends } from "./trends.js";

const SLIDE_MS = 60000; // a preset's window moves with the clock even when nothing arrives

const root = document.body;
const dialog = document.querySelector("#key-dialog");
const view = {
  state: readState(),
  session: null,
  live: null,
  announced: null, // the newest committed offset the server announced
  refreshes: 0,
  tailSeen: new Set(),
};
const trends = createTrends(root);
let running = null;
let pending = false;

function showError(message) {
  const banner = document.querySelector("#error");
  banner.textContent = message || "";
  banner.hidden = !message;
}

function setLiveStatus(status) {
  const el = document.querySelector("#live-status");
  el.dataset.state = status;
  el.querySelector("span").textContent = status === "live" ? "Live" : "Reconnecting…";
}

function withScope(state) {
  const who = view.session.who;
  return { ...state, project: who.project_id, org: who.organization_id ?? state.org };
}

async function loadAll() {
  const state = view.state;
  const api = view.session.api;
  const window = resolveWindow(state);
  const range = {
    start: window.start,
    end: window.end,
    timezone: window.timezone,
    filters: stateFilters(state),
  };
  const previous = { ...range, start: window.previousStart, end: window.start };
  renderRange(root, state, window);
  const [current, before, series, tables, tail, options] = await Promise.allSettled([
    periodNumbers(api, range),
    periodNumbers(api, previous),
    loadTrends(api, range, window.seconds),
    loadTables(api, range),
    loadTail(api, range),
    loadFilterOptions(api, range, state),
  ]);
  if (state !== view.state) return; // the user changed the view meanwhile: that refresh follows
  const failed = [current, before, series, tables, tail, options].find((r) => r.status === "rejected");
  if (failed) {
    await handleFailure(failed.reason);
    return;
  }
  showError(null);
  renderHeadline(root, current.value, before.value);
  renderTrends(trends, series.value);
  renderTables(root, tables.value, current.value.usage);
  renderTail(document.querySelector("[data-table=tail]"), tail.value, view.tailSeen);
  renderFilters(root, state, {
    who: view.session.who,
    projects: knownProjects(),
    options: options.value,
  });
  document.querySelector("#range-label").textContent =
    `${formatDateTime(new Date(window.start))} – ${formatDateTime(new Date(window.end))}`;
  Object.assign(root.dataset, {
    view: stateToSearch(state),
    start: window.start,
    end: window.end,
    previousStart: window.previousStart,
    refreshes: String(++view.refreshes),
  });
}

async function handleFailure(error) {
  if (error && error.status === 401 && view.session.who.key_required) {
    forgetKey(view.session.who.project_id);
    await connect(view.state.project, "That key no longer works; enter a read key.");
    return;
  }
  showError(error && error.message ? error.message : String(error));
}

/** Refresh every widget; calls during a refresh coalesce into one more refresh after it. */
function refresh() {
  if (running) {
    pending = true;
    return running;
  }
  running = (async () => {
    do {
      pending = false;
      await loadAll();
    } while (pending);
  })().finally(() => {
    running = null;
  });
  return running;
}

function onLiveMessage(kind, data) {
  if (data.health !== undefined) renderHealth(document.querySelector("#health"), data.health);
  if (kind === "health") return;
  const first = view.announced === null;
  if (first || data.offset > view.announced) {
    view.announced = Math.max(view.announced ?? 0, data.offset);
    // The first hello closes the gap between the first refresh and the stream opening.
    refresh();
  }
}

function startLive() {
  if (view.live) view.live.stop();
  view.announced = null;
  view.live = followLive(view.session.api.headers(), {
    onMessage: onLiveMessage,
    onStatus: setLiveStatus,
  });
}

async function connect(project, message) {
  let session = await openSession(project);
  if (!session) {
    const hint = project ? `Enter a read key for project “${project}”.` : "";
    session = await promptForKey(dialog, { message: message || hint });
  }
  view.session = session;
  document.querySelector("#health").hidden = !session.who.health;
  view.state = withScope({ ...view.state, project: session.who.project_id });
  writeState(view.state, { replace: true });
  view.tailSeen.clear();
  startLive();
  await refresh();
}

function onChange(patch) {
  const next = withScope({ ...view.state, ...patch });
  if (patch.project && patch.project !== view.session.who.project_id) {
    view.state = { ...view.state, ...patch };
    writeState(view.state);
    connect(patch.project);
    return;
  }
  view.state = next;
  writeState(view.state);
  refresh();
}

async function onAddKey() {
  const session = await promptForKey(dialog, { cancellable: true });
  if (!session) {
    document.querySelector("#project").value = view.session.who.project_id;
    return;
  }
  view.state = { ...view.state, project: session.who.project_id, org: null, event: null };
  writeState(view.state);
  await connect(session.who.project_id);
}

bindControls(root, { onChange, onAddKey });
window.addEventListener("popstate", () => {
  const state = readState();
  if (state.project && state.project !== view.session.who.project_id) {
    view.state = state;
    connect(state.project);
    return;
  }
  view.state = withScope(state);
  refresh();
});
window.setInterval(() => {
  if (view.session && view.state.range !== "custom" && !document.hidden) refresh();
}, SLIDE_MS);
connect(view.state.project).catch((error) => showError(error.message || String(error)));
