// Broadcasts flow while the test breaks something. Clients connect through
// the load balancer over WebSocket (reconnecting on their own); one sender
// broadcasts numbered `fanout` messages to room `bench` every `everyMs`.
//
// Phase 1: everyone connects, broadcasting starts, and the script reports
// where each client and the sender live, then waits for a line on stdin
// (the test breaks and mends something meanwhile). Phase 2: broadcasting
// goes on for `afterMs`, stops, and once every client holds the last number
// (or `settleMs` passes) the script reports what each client received.
//
// Usage: node js/cluster-broadcast-faults.mjs '<json plan>'
// plan: { url, clients, everyMs, afterMs, settleMs }
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { connected } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const stdin = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => stdin.once("line", resolve));
const options = {
  transports: ["websocket"],
  forceNew: true,
  reconnectionDelay: 100,
  reconnectionDelayMax: 500,
};
const nodeOf = (socket) => socket.io.engine.id.split("-")[0];

const sender = io(plan.url, { ...options, reconnection: false });
const clients = Array.from({ length: plan.clients }, () => {
  const socket = io(plan.url, options);
  const state = { socket, node: null, seqs: [], disconnects: 0, waiter: null };
  socket.on("connect", () => (state.node ??= nodeOf(socket)));
  socket.on("disconnect", () => (state.disconnects += 1));
  socket.on("msg", ({ seq }) => {
    state.seqs.push(seq);
    if (state.waiter && seq >= state.waiter.last) state.waiter.resolve();
  });
  return state;
});
await Promise.all([connected(sender), ...clients.map((c) => connected(c.socket))]);

let seq = 0;
const ticker = setInterval(() => sender.emit("fanout", { seq: seq++ }), plan.everyMs);
console.log(JSON.stringify({ phase: "running", sender: nodeOf(sender), nodes: clients.map((c) => c.node) }));

await nextLine();
await new Promise((resolve) => setTimeout(resolve, plan.afterMs));
clearInterval(ticker);
const last = seq - 1;
// Every client, reconnected if it had to, must hear the last broadcast.
const heardLast = (state) =>
  state.seqs.includes(last) ? Promise.resolve() : new Promise((resolve) => (state.waiter = { last, resolve }));
const settled = await Promise.race([
  Promise.all(clients.map(heardLast)).then(() => true),
  new Promise((resolve) => setTimeout(() => resolve(false), plan.settleMs)),
]);

// What each client received: gaps, duplicates and order, in short.
const summary = (state) => {
  const seen = new Set();
  let duplicates = 0;
  let ordered = true;
  state.seqs.forEach((value, index) => {
    if (seen.has(value)) duplicates += 1;
    seen.add(value);
    if (index > 0 && value < state.seqs[index - 1]) ordered = false;
  });
  const first = state.seqs.length ? Math.min(...state.seqs) : null;
  let missing = 0;
  if (first !== null) for (let n = first; n <= last; n++) if (!seen.has(n)) missing += 1;
  return {
    node: state.node,
    connected: state.socket.connected,
    disconnects: state.disconnects,
    received: state.seqs.length,
    first,
    missing,
    duplicates,
    ordered,
    heardLast: seen.has(last),
  };
};
console.log(JSON.stringify({ phase: "done", settled, last, senderConnected: sender.connected, clients: clients.map(summary) }));
sender.close();
for (const state of clients) state.socket.close();
process.exit(0);
