// The toolbar: time range presets and a custom range, project, organization and event filters.

const OPTIONS_LIMIT = 200;

/** Organizations and events seen in the range (each list ignores its own filter). */
export async function loadFilterOptions(api, range, state) {
  const base = { start: range.start, end: range.end, timezone: range.timezone, limit: OPTIONS_LIMIT };
  const event = state.event ? [{ field: "event", op: "eq", value: state.event }] : [];
  const org = state.org ? [{ field: "organization_id", op: "eq", value: state.org }] : [];
  const [orgs, events] = await Promise.all([
    api.query({ ...base, filters: event, dimensions: ["organization_id"] }),
    api.query({ ...base, filters: org, dimensions: ["event"] }),
  ]);
  return {
    orgs: orgs.map((r) => r.organization_id).filter((v) => v !== null),
    events: events.map((r) => r.event),
  };
}

function setOptions(select, values, selected, allLabel) {
  const wanted = selected && !values.includes(selected) ? [selected, ...values] : values;
  const sorted = [...wanted].sort();
  const options = allLabel === null ? [] : [new Option(allLabel, "")];
  options.push(...sorted.map((value) => new Option(value, value)));
  select.replaceChildren(...options);
  select.value = selected ?? "";
}

function toLocalInput(iso) {
  const date = new Date(iso);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

function fromLocalInput(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString().replace(".000Z", "Z");
}

/** Wire the controls; `onChange(patch)` gets the state fields the user changed. */
export function bindControls(root, { onChange, onAddKey }) {
  const custom = root.querySelector("#custom-range");
  for (const button of root.querySelectorAll("[data-range]")) {
    button.addEventListener("click", () => {
      const range = button.dataset.range;
      if (range === "custom") {
        custom.hidden = !custom.hidden;
        return;
      }
      custom.hidden = true;
      onChange({ range, from: null, to: null });
    });
  }
  custom.addEventListener("submit", (event) => {
    event.preventDefault();
    const from = fromLocalInput(custom.elements.from.value);
    const to = fromLocalInput(custom.elements.to.value);
    const note = custom.querySelector("[data-role=note]");
    if (!from || !to || new Date(from) >= new Date(to)) {
      note.textContent = "Choose a start before the end.";
      return;
    }
    note.textContent = "";
    custom.hidden = true;
    onChange({ range: "custom", from, to });
  });
  root.querySelector("#organization").addEventListener("change", (event) => {
    onChange({ org: event.target.value || null });
  });
  root.querySelector("#event").addEventListener("change", (event) => {
    onChange({ event: event.target.value || null });
  });
  root.querySelector("#project").addEventListener("change", (event) => {
    const value = event.target.value;
    if (value === "+") onAddKey();
    else onChange({ project: value, org: null, event: null });
  });
}

export function renderRange(root, state, window) {
  for (const button of root.querySelectorAll("[data-range]")) {
    button.setAttribute("aria-pressed", String(button.dataset.range === state.range));
  }
  const custom = root.querySelector("#custom-range");
  custom.elements.from.value = toLocalInput(window.start);
  custom.elements.to.value = toLocalInput(window.end);
}

/** Fill the selects. An organization-scoped key sees only its own organization. */
export function renderFilters(root, state, { who, projects, options }) {
  const project = root.querySelector("#project");
  const known = who.key_required ? projects : [who.project_id];
  setOptions(project, known, who.project_id, null);
  if (who.key_required) project.append(new Option("Add a key…", "+"));
  project.disabled = !who.key_required;
  const org = root.querySelector("#organization");
  if (who.organization_id) {
    setOptions(org, [who.organization_id], who.organization_id, null);
    org.disabled = true;
  } else {
    setOptions(org, options.orgs, state.org, "All organizations");
    org.disabled = false;
  }
  setOptions(root.querySelector("#event"), options.events, state.event, "All events");
}

