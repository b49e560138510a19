// One EventSource per tab for /api/events; pages subscribe to event types. The header shows
// whether the live link is up, lost (reconnecting) or restored.

const handlers = new Map();
const statusHandlers = new Set();
let source = null;
let status = "connecting";
let everConnected = false;

function setStatus(next) {
  if (next === status) return;
  status = next;
  for (const fn of statusHandlers) fn(status);
}

export function connect() {
  if (source) return;
  source = new EventSource("/api/events", { withCredentials: true });
  source.addEventListener("hello", () => {
    setStatus(everConnected ? "restored" : "connected");
    everConnected = true;
  });
  source.onerror = () => {
    // EventSource retries by itself (the server asks for 3 s); a closed source means the
    // server refused us (e.g. the session ended): start a fresh one after a pause.
    setStatus("lost");
    if (source.readyState === EventSource.CLOSED) {
      source = null;
      setTimeout(connect, 5000);
    }
  };
  for (const type of handlers.keys()) attach(type);
}

function attach(type) {
  if (!source || source[`_has_${type}`]) return;
  source[`_has_${type}`] = true;
  source.addEventListener(type, (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      console.warn("live: unreadable event", event.data);
      return;
    }
    for (const fn of handlers.get(type) || []) fn(data);
  });
}

/** Call fn(data) for every `type` event until the returned function is called. */
export function on(type, fn) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(fn);
  attach(type);
  return () => handlers.get(type).delete(fn);
}

export function onStatus(fn) {
  statusHandlers.add(fn);
  fn(status);
  return () => statusHandlers.delete(fn);
}

export function disconnect() {
  if (source) source.close();
  source = null;
  everConnected = false;
  status = "connecting";
}
