// Room broadcasts across nodes: one member of each room, spread over the
// nodes, plus a non-member on every node, all connected straight to their
// node (not through the load balancer) so that the spread is known.
// A sender on the first node broadcasts numbered events to every room.
// Prints what every socket received; the Rust test asserts on it.
//
// Usage: node js/cluster-rooms.mjs '<json plan>'
// plan: { nodes: [url...], rooms: [name...], seqs, transports }
import { io } from "socket.io-client";
import { ack } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const timer = setTimeout(() => {
  console.log(JSON.stringify({ timedOut: true }));
  process.exit(1);
}, plan.timeoutMs ?? 30000);


async function open(node, room) {
  const socket = io(plan.nodes[node], { transports: plan.transports, forceNew: true, reconnection: false });
  const entry = { node, room, socket, seqs: [], probes: new Set(), marker: false };
  socket.on("seq", (...args) => entry.seqs.push(args));
  socket.on("probe", (name) => entry.probes.add(name));
  socket.on("msg", () => (entry.marker = true));
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  if (room !== null) await ack(socket, "join", room);
  return entry;
}

const members = await Promise.all(plan.rooms.map((room, i) => open(i % plan.nodes.length, room)));
const outsiders = await Promise.all(plan.nodes.map((_, node) => open(node, null)));
const sender = await open(0, null);
const everyone = [...members, ...outsiders, sender];
const rooms = [...new Set(plan.rooms)];

// A node subscribes to a room's subject when its first member joins; wait
// until a probe to every room has reached its member before counting.
const waitFor = async (done, send) => {
  const deadline = Date.now() + 15000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("subscriptions never settled");
    await send();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
await waitFor(
  () => members.every((m) => m.probes.has(m.room)),
  () => Promise.all(rooms.map((room) => ack(sender.socket, "to-room", room, "probe", room))),
);

for (let seq = 0; seq < plan.seqs; seq += 1) {
  for (const room of rooms) await ack(sender.socket, "to-room", room, "seq", room, seq);
}
// The end marker goes to room `bench`, which every echo socket is in, on
// every node; sent after the last event, it arrives after it.
await waitFor(
  () => everyone.every((e) => e.marker),
  async () => sender.socket.emit("fanout", "end"),
);

const report = everyone.map(({ node, room, seqs }) => ({ node, room, seqs }));
clearTimeout(timer);
for (const entry of everyone) entry.socket.close();
console.log(JSON.stringify(report));
process.exit(0);
