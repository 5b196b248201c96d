// Read keys, entered once and kept for the browser session (sessionStorage), one per project.

import { Api } from "./api.js";

const STORE = "streamgauge.keys";

function storedKeys() {
  try {
    return JSON.parse(window.sessionStorage.getItem(STORE) || "{}");
  } catch {
    return {};
  }
}

function storeKey(project, key) {
  const keys = storedKeys();
  keys[project] = key;
  window.sessionStorage.setItem(STORE, JSON.stringify(keys));
}

export function forgetKey(project) {
  const keys = storedKeys();
  delete keys[project];
  window.sessionStorage.setItem(STORE, JSON.stringify(keys));
}

/** Projects with a stored key, sorted. */
export function knownProjects() {
  return Object.keys(storedKeys()).sort();
}

/**
 * Who the page acts as: `{api, who}` for `project` (or any stored project), or
 * null when a key is needed and none is stored. Key-less (loopback) servers need none.
 */
export async function openSession(project) {
  const open = await new Api(null).whoami();
  if (!open.key_required) return { api: new Api(null), who: open };
  const keys = storedKeys();
  const chosen = project && keys[project] ? project : knownProjects()[0];
  if (!chosen) return null;
  const api = new Api(keys[chosen]);
  try {
    return { api, who: await api.whoami() };
  } catch (error) {
    if (error.status === 401) {
      forgetKey(chosen);
      return null;
    }
    throw error;
  }
}

/** Check a key the user typed; on success keep it for the session under its project. */
export async function addKey(key) {
  const api = new Api(key.trim());
  const who = await api.whoami();
  storeKey(who.project_id, api.key);
  return { api, who };
}

/**
 * Ask for a read key in the dialog; resolves with the session once a key works,
 * or with null if the user closes the dialog (only when `cancellable`).
 */
export function promptForKey(dialog, { message = "", cancellable = false } = {}) {
  const form = dialog.querySelector("form");
  const input = dialog.querySelector("input[name=key]");
  const note = dialog.querySelector("[data-role=note]");
  const close = dialog.querySelector("[data-role=cancel]");
  note.textContent = message;
  input.value = "";
  close.hidden = !cancellable;
  return new Promise((resolve) => {
    function finish(session) {
      form.removeEventListener("submit", submit);
      dialog.removeEventListener("cancel", cancel);
      close.removeEventListener("click", cancel);
      dialog.close();
      resolve(session);
    }
    async function submit(event) {
      event.preventDefault();
      try {
        finish(await addKey(input.value));
      } catch (error) {
        note.textContent = error.message;
      }
    }
    function cancel(event) {
      event.preventDefault();
      if (cancellable) finish(null);
    }
    form.addEventListener("submit", submit);
    dialog.addEventListener("cancel", cancel);
    close.addEventListener("click", cancel);
    dialog.showModal();
    input.focus();
  });
}
