// Cluster-wide server operations across the nodes, driven through the echo
// app: fetch-sockets, sockets-join/leave, disconnect-sockets,
// broadcast-with-ack and server-side-emit. Every client connects straight
// to its node over WebSocket, so where each socket lives is known.
// Prints what each operation returned; the Rust test asserts on it.
//
// Usage: node js/cluster-ops.mjs '<json plan>'
// plan: { nodes: [url...], mode: "ops" | "frozen" }
//   ops:    every operation across the nodes, then one report.
//   frozen: phase 1 connects one client per node (and a "doomed" one on
//           node 1) and reports; phase 2 (on a line on stdin) starts every
//           operation, reports that they were sent; phase 3 (on another
//           line) reports their results, how long each took, and what they
//           did.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { ackWithin } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const timer = setTimeout(() => {
  console.log(JSON.stringify({ timedOut: true }));
  process.exit(1);
}, plan.timeoutMs ?? 60000);
const stdin = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => stdin.once("line", resolve));

// The ack's arguments, all of them.
const ackAll = ackWithin(30000);
// The ack's first argument.
const ack = async (socket, event, ...args) => (await ackAll(socket, event, ...args))[0];

// A client on `node`; it answers `question` with its socket id, and
// `question-some` only when `answers` is set.
async function open(node, index, answers = true) {
  const socket = io(plan.nodes[node], { transports: ["websocket"], forceNew: true, reconnection: false });
  const client = { node, index, socket, asked: 0 };
  client.disconnected = new Promise((resolve) => socket.once("disconnect", resolve));
  socket.on("question", (...args) => {
    client.asked += 1;
    args.at(-1)(socket.id, ...args.slice(0, -1));
  });
  socket.on("question-some", (...args) => {
    client.asked += 1;
    if (answers) args.at(-1)(socket.id);
  });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return client;
}

const timed = async (work) => {
  const started = Date.now();
  const result = await work;
  return { result, ms: Date.now() - started };
};
const ids = (sockets) => sockets.map((s) => s.id).sort();
const except = { except: ["caller"] };

if (plan.mode === "ops") {
  const caller = await open(0, -1);
  await ack(caller.socket, "join", "caller");
  // Two clients per node; the first of each joins `red`; only the first
  // answers `question-some`.
  const clients = [];
  for (let node = 0; node < plan.nodes.length; node += 1) {
    for (let index = 0; index < 2; index += 1) clients.push(await open(node, index, index === 0));
  }
  for (const c of clients) {
    await ack(c.socket, "set-data", { node: c.node, index: c.index });
    if (c.index === 0) await ack(c.socket, "join", "red");
  }
  const report = { clients: clients.map((c) => ({ id: c.socket.id, node: c.node, index: c.index })) };
  report.red = await ack(caller.socket, "fetch-sockets", { to: ["red"] });
  report.all = await ack(caller.socket, "fetch-sockets", except);
  report.join = await ack(caller.socket, "sockets-join", { to: ["red"] }, "blue");
  report.blue = ids(await ack(caller.socket, "fetch-sockets", { to: ["blue"] }));
  report.leave = await ack(caller.socket, "sockets-leave", { to: ["blue"] }, "red");
  report.redAfterLeave = ids(await ack(caller.socket, "fetch-sockets", { to: ["red"] }));
  report.acks = await ack(caller.socket, "broadcast-with-ack", { to: ["blue"] }, "question", 5000, "q1");
  report.partial = await timed(ack(caller.socket, "broadcast-with-ack", except, "question-some", 1500));
  report.asked = clients.map((c) => c.asked);
  report.serverSide = await ack(caller.socket, "server-side-emit", "hello");
  report.disconnect = await ack(caller.socket, "disconnect-sockets", { to: ["blue"] }, false);
  report.blueReasons = await Promise.all(clients.filter((c) => c.index === 0).map((c) => c.disconnected));
  report.afterDisconnect = ids(await ack(caller.socket, "fetch-sockets", except));
  report.close = await ack(caller.socket, "disconnect-sockets", except, true);
  report.closeReasons = await Promise.all(clients.filter((c) => c.index === 1).map((c) => c.disconnected));
  report.left = ids(await ack(caller.socket, "fetch-sockets", {}));
  report.caller = caller.socket.id;
  report.callerConnected = caller.socket.connected;
  clearTimeout(timer);
  caller.socket.close();
  console.log(JSON.stringify(report));
  process.exit(0);
}

// frozen
const caller = await open(0, -1);
await ack(caller.socket, "join", "caller");
const clients = [];
for (let node = 0; node < plan.nodes.length; node += 1) clients.push(await open(node, 0));
const doomed = await open(1, 1);
await ack(doomed.socket, "join", "doomed");
console.log(JSON.stringify({ ids: clients.map((c) => c.socket.id) }));
await nextLine();
const others = { except: ["caller", "doomed"] };
const pending = {
  fetch: timed(ackAll(caller.socket, "fetch-sockets", others)),
  acks: timed(ack(caller.socket, "broadcast-with-ack", others, "question", 20000)),
  serverSide: timed(ack(caller.socket, "server-side-emit", "hello")),
  join: timed(ack(caller.socket, "sockets-join", others, "frozen-join")),
  leave: timed(ack(caller.socket, "sockets-leave", others, "bench")),
  disconnect: timed(ack(caller.socket, "disconnect-sockets", { to: ["doomed"] }, false)),
};
console.log(JSON.stringify({ sent: true }));
await nextLine();
const report = {};
for (const [name, result] of Object.entries(pending)) report[name] = await result;
// What they did, now that the frozen node is gone.
report.joined = ids(await ack(caller.socket, "fetch-sockets", { to: ["frozen-join"] }));
report.inBench = ids(await ack(caller.socket, "fetch-sockets", { to: ["bench"] }));
report.doomedReason = await doomed.disconnected;
report.caller = caller.socket.id;
clearTimeout(timer);
caller.socket.close();
for (const c of clients) c.socket.close();
console.log(JSON.stringify(report));
process.exit(0);
