// Live updates: the server-sent events of `GET /live`, read with fetch so the key travels
// in the Authorization header (EventSource cannot send headers).

const RETRY_MS = 500;
const MAX_RETRY_MS = 10000;

function parseEvent(block) {
  const message = { event: "message", data: "" };
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") message.event = value;
    else if (field === "data") message.data += value;
  }
  return message.data ? message : null;
}

async function readStream(body, onMessage) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const message = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (message) onMessage(message.event, JSON.parse(message.data));
      end = buffer.indexOf("\n\n");
    }
  }
}

/**
 * Follow `/live` until `stop()`: `onMessage(kind, data)` for hello/commit/health messages,
 * `onStatus("live" | "reconnecting")`. A stream the server ends is reopened at once;
 * a failed one after a growing delay.
 */
export function followLive(headers, { onMessage, onStatus }) {
  const controller = new AbortController();
  let retry = RETRY_MS;
  let timer = null;

  async function open() {
    timer = null;
    try {
      const response = await fetch("/live", {
        headers: { ...headers, Accept: "text/event-stream" },
        cache: "no-store",
        signal: controller.signal,
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      onStatus("live");
      retry = RETRY_MS;
      await readStream(response.body, onMessage);
      if (!controller.signal.aborted) open();
    } catch {
      if (controller.signal.aborted) return;
      onStatus("reconnecting");
      timer = window.setTimeout(open, retry);
      retry = Math.min(retry * 2, MAX_RETRY_MS);
    }
  }

  open();
  return {
    stop() {
      controller.abort();
      if (timer !== null) window.clearTimeout(timer);
    },
  };
}
