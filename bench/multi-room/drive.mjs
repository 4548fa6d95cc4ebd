// Drives one multi-room broadcast workload against three nodes and prints
// one JSON line: broadcasts sent, deliveries received, wall seconds.
//
// Usage: node drive.mjs '<json plan>'
// plan: { nodes: [url x3], perNode, rooms, roomsPerBroadcast, broadcasts, layout }
//   layout "small": `rooms` rooms of one member per node, each socket in one room;
//   layout "big": two rooms, each socket in one of them.
import { createRequire } from "node:module";

const require = createRequire(new URL("../../tests/package.json", import.meta.url));
const { io } = require("socket.io-client");

const plan = JSON.parse(process.argv[2]);
const ack = (socket, event, ...args) =>
  new Promise((resolve, reject) =>
    socket.timeout(10000).emit(event, ...args, (err, ...response) => (err ? reject(err) : resolve(response))),
  );
const connect = (url) =>
  new Promise((resolve, reject) => {
    const socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });

let received = 0;
const sockets = [];
for (let n = 0; n < plan.nodes.length; n += 1) {
  for (let i = 0; i < plan.perNode; i += 1) {
    const socket = await connect(plan.nodes[n]);
    const room = plan.layout === "big" ? `big-${i % 2}` : `room-${i % plan.rooms}`;
    await ack(socket, "join", room);
    socket.on("b", () => (received += 1));
    socket.on("probe", () => {});
    sockets.push({ socket, room });
  }
}
const sender = await connect(plan.nodes[0]);
const roomNames = [...new Set(sockets.map((s) => s.room))];
const targetsOf = (k) =>
  plan.layout === "big" ? roomNames : Array.from({ length: plan.roomsPerBroadcast }, (_, j) => roomNames[(k + j) % roomNames.length]);
const members = (rooms) => sockets.filter((s) => rooms.includes(s.room)).length;

// Warm up until every room subscription is in place on every node.
let probes = 0;
for (const s of sockets) s.socket.on("probe", () => (probes += 1));
while (probes < sockets.length) {
  probes = 0;
  await ack(sender, "broadcast", { to: roomNames }, "probe");
  await new Promise((resolve) => setTimeout(resolve, 200));
}

let expected = 0;
const started = process.hrtime.bigint();
for (let k = 0; k < plan.broadcasts; k += 1) {
  const rooms = targetsOf(k);
  expected += members(rooms);
  sender.emit("broadcast", { to: rooms }, "b", k);
}
const deadline = Date.now() + 120000;
while (received < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ broadcasts: plan.broadcasts, expected, received, seconds }));
for (const s of sockets) s.socket.close();
sender.close();
process.exit(0);
