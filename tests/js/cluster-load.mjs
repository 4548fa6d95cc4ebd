// Many socket.io-client clients through the load balancer, each doing echo,
// acks and room broadcasts for several rounds. Prints one JSON report of
// every failure it saw; the Rust test asserts on it.
//
// Usage: node js/cluster-load.mjs '<json plan>'
// plan: { url, clients, rounds, rooms, transports, awaitUpgrade }
// With awaitUpgrade, each client first waits until its engine has upgraded
// to WebSocket (a failed upgrade is reported in upgradeErrors).
import { io } from "socket.io-client";
import { ack, upgraded } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const report = {
  connectErrors: [],
  engineErrors: [],
  disconnects: [],
  ackErrors: [],
  mismatches: [],
  roomCounts: [],
  upgradeErrors: [],
  transports: {},
};

const timer = setTimeout(() => {
  report.timedOut = true;
  finish();
}, plan.timeoutMs ?? 60000);

const sockets = [];
let finishing = false;
function finish() {
  finishing = true;
  clearTimeout(timer);
  for (const socket of sockets) socket.close();
  console.log(JSON.stringify(report));
  process.exit(0);
}


async function client(index) {
  const socket = io(plan.url, { transports: plan.transports, forceNew: true, reconnection: false });
  sockets.push(socket);
  const room = `room-${index % plan.rooms}`;
  let heard = 0;
  socket.on("hey", () => (heard += 1));
  socket.on("disconnect", (reason) => finishing || report.disconnects.push({ index, reason }));
  socket.io.on("error", (err) => report.engineErrors.push({ index, error: String(err) }));
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (err) => reject(err));
  }).catch((err) => report.connectErrors.push({ index, error: String(err) }));
  if (!socket.connected) return { heard: 0, socket };
  if (plan.awaitUpgrade) {
    await upgraded(socket).catch((err) => report.upgradeErrors.push({ index, error: String(err) }));
  }
  await ack(socket, "join", room);
  return { socket, room, heard: () => heard };
}


async function rounds(state, index) {
  const { socket, room } = state;
  for (let round = 0; round < plan.rounds; round += 1) {
    const value = { index, round, nested: [round, "x"] };
    try {
      const [echoed] = await ack(socket, "echo", value);
      if (JSON.stringify(echoed) !== JSON.stringify(value)) report.mismatches.push({ index, round, echoed });
      const back = new Promise((resolve) => socket.once("message-back", (...args) => resolve(args)));
      socket.emit("message", value);
      const args = await back;
      if (JSON.stringify(args) !== JSON.stringify([value])) report.mismatches.push({ index, round, args });
      await ack(socket, "to-room", room, "hey", index, round);
    } catch (err) {
      report.ackErrors.push({ index, round, error: String(err) });
    }
  }
}

const states = await Promise.all(Array.from({ length: plan.clients }, (_, i) => client(i)));
const connected = states.filter((state) => state.socket.connected);
await Promise.all(connected.map((state, i) => rounds(state, i)));

// Every client of a room hears every room broadcast of its room, its own included.
const perRoom = {};
for (const state of connected) perRoom[state.room] = (perRoom[state.room] ?? 0) + 1;
const expected = (state) => perRoom[state.room] * plan.rounds;
const deadline = Date.now() + 20000;
while (connected.some((state) => state.heard() < expected(state)) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
for (const [index, state] of connected.entries()) {
  if (state.heard() !== expected(state)) {
    report.roomCounts.push({ index, heard: state.heard(), expected: expected(state) });
  }
  const transport = state.socket.io.engine.transport.name;
  report.transports[transport] = (report.transports[transport] ?? 0) + 1;
}
report.connected = connected.length;
finish();
