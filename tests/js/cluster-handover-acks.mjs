// Acks that span a move. The client starts `request-ack` while polling on
// the owner: the server (a task on the owner) emits `ask` with an ack and
// waits. Only then may the client upgrade, to a WebSocket pinned to another
// node, so the session moves while the server's ack is pending. The client
// answers `ask` after the move: the answer must reach the task waiting on
// the old node, and that task's reply (sent through a handle on the old
// node, now a tombstone) must reach the client on the new node. Socket
// data and rooms moved too.
//
// Usage: node js/cluster-handover-acks.mjs '<json plan>'
// plan: { owner: url, taker: {host, port} }
import { NodeWebSocket, NodeXHR } from "engine.io-client";
import { io } from "socket.io-client";
import { ack } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const report = {};
const timer = setTimeout(() => {
  report.timedOut = true;
  finish();
}, 30000);

let socket;
let finishing = false;
function finish() {
  clearTimeout(timer);
  finishing = true;
  socket?.close();
  console.log(JSON.stringify(report));
  process.exit(0);
}

// A WebSocket transport that opens only once the gate does, so the test
// decides when the upgrade starts.
let openGate;
const gate = new Promise((resolve) => (openGate = resolve));
class GatedWebSocket extends NodeWebSocket {
  doOpen() {
    gate.then(() => {
      if (this.readyState === "opening") super.doOpen();
    });
  }
}

const ask = (event, ...args) => ack(socket, event, ...args);

socket = io(plan.owner, {
  forceNew: true,
  reconnection: false,
  transports: [NodeXHR, GatedWebSocket],
  transportOptions: { websocket: { hostname: plan.taker.host, port: plan.taker.port } },
});
const upgraded = new Promise((resolve) => socket.io.on("open", () => socket.io.engine.once("upgrade", resolve)));
let asked;
const askArrived = new Promise((resolve) => (asked = resolve));
socket.on("ask", (...args) => {
  const answer = args.pop();
  report.askTransport = socket.io.engine.transport.name;
  asked();
  upgraded.then(() => answer(...args, "answered-after-move"));
});
socket.on("disconnect", (reason) => finishing || (report.disconnect ??= reason));
await new Promise((resolve, reject) => {
  socket.once("connect", resolve);
  socket.once("connect_error", reject);
});
report.sid = socket.io.engine.id;
await ask("set-data", { moved: true });
await ask("join", "r1");

const requested = ask("request-ack", "ask", 8000, "q", 1);
await askArrived;
openGate();
await upgraded;
report.transport = socket.io.engine.transport.name;
report.requestAck = (await requested)[0];

const [found] = await ask("fetch-sockets", { to: ["r1"] });
report.fetched = found.map((s) => ({ self: s.id === socket.id, rooms: s.rooms.sort(), data: s.data }));
report.socketId = socket.id;
const [echoed] = await ask("echo", "still here");
report.echo = echoed;
finish();
