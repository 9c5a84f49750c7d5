// PortGuard live dashboards (wharf and province): one WebSocket, plain ES modules, no
// build step. The page gives its config (socket path, words, labels) in #live-config.

import { createAlerts } from "./alerts.js";
import { createDeclarations } from "./declarations.js";
import { createView } from "./render.js";
import { openSocket } from "./socket.js";
import { createHandler, createState } from "./state.js";
import { createTimes } from "./words.js";

const root = document.querySelector("[data-live]");
const configNode = document.getElementById("live-config");

if (root && configNode) {
  const config = JSON.parse(configNode.textContent);
  const times = createTimes(config.timeZone);
  const state = createState();
  const view = createView(root, config, state, times);
  const alerts = createAlerts(root, config, state, times);
  const handle = createHandler({ config, state, view, alerts });
  const declarations = createDeclarations(root);
  openSocket(config.socket, {
    onMessage: (message) => {
      handle(message);
      declarations(message);
    },
    onState: view.showConnection,
  });
}
