// The dashboard's one WebSocket: connect, back off and reconnect, come back at once when
// the phone's network does. Every connection starts with the server's snapshot, which
// replaces the whole state, so after a reconnection the page never keeps showing stale
// data silently.

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10000;
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;

// onMessage(message) gets the snapshot and every event, one at a time; onState(state) hears "live" once a snapshot is
// applied, "reconnecting", "unauthenticated" or "forbidden" when the socket closes.
export function openSocket(path, { onMessage, onState }) {
  let socket = null;
  let retryTimer = null;
  let attempt = 0;

  function connect() {
    retryTimer = null;
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + window.location.host + path);
    socket = ws;
    // The snapshot is an object; after it, each frame is the list of the events one
    // commit sent, in order.
    ws.onmessage = (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (Array.isArray(data)) {
        data.forEach(onMessage);
      } else if (data.type === "snapshot") {
        attempt = 0;
        onMessage(data);
        onState("live");
      }
    };
    ws.onclose = (event) => {
      if (socket !== ws) {
        return;
      }
      socket = null;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        onState("unauthenticated");
      } else if (event.code === CLOSE_FORBIDDEN) {
        onState("forbidden");
      } else {
        onState("reconnecting");
        scheduleReconnect();
      }
    };
  }

  function scheduleReconnect() {
    const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * Math.pow(2, attempt));
    attempt += 1;
    // Jitter, so that every dashboard does not come back at the same instant after a restart.
    retryTimer = window.setTimeout(connect, ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  // The phone got its network back: no need to wait for the rest of the backoff.
  window.addEventListener("online", () => {
    if (retryTimer !== null) {
      window.clearTimeout(retryTimer);
      connect();
    }
  });

  connect();
}
