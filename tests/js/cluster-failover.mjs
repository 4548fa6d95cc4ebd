// Clients through the load balancer while a node dies. Phase 1: every
// client connects and echoes, then the script prints a report and waits for
// a line on stdin. Phase 2: every client, reconnected if its node died,
// echoes again; the script prints the final report.
//
// Usage: node js/cluster-failover.mjs '<json plan>'
// plan: { url, clients, transports }
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { ackWithin } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const stdin = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => stdin.once("line", resolve));
const ack = ackWithin(5000);
// Connected again, however many reconnection attempts fail first.
const connected = (socket) =>
  socket.connected ? Promise.resolve() : new Promise((resolve) => socket.once("connect", resolve));

const clients = Array.from({ length: plan.clients }, (_, index) => {
  const socket = io(plan.url, {
    transports: plan.transports,
    forceNew: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
  });
  const state = { index, socket, reconnects: 0, failures: [] };
  socket.io.on("reconnect", () => (state.reconnects += 1));
  return state;
});

async function echoAll(phase) {
  await Promise.all(
    clients.map(async (state) => {
      // A client whose node died may need a few tries: the first reconnect
      // can race the load balancer noticing the dead upstream.
      for (let attempt = 0; attempt < 20; attempt += 1) {
        await connected(state.socket);
        try {
          const [value] = await ack(state.socket, "echo", `${phase}-${state.index}`);
          if (value === `${phase}-${state.index}`) return;
          state.failures.push({ phase, value });
          return;
        } catch (err) {
          if (attempt === 19) state.failures.push({ phase, error: String(err) });
        }
      }
    }),
  );
  const failures = clients.flatMap((state) => state.failures);
  const reconnects = clients.reduce((sum, state) => sum + state.reconnects, 0);
  console.log(JSON.stringify({ phase, failures, reconnects }));
}

await echoAll("before");
await nextLine();
await echoAll("after");
for (const state of clients) state.socket.close();
process.exit(0);
