// Sessions move between nodes while broadcasts flow. A sender broadcasts a
// sequence number to room "bench" at a fixed rate (the echo app's `fanout`;
// every socket joins "bench" as it connects, so a client is a member before
// its upgrade starts). Meanwhile clients with default transports connect
// in waves through the load balancer and upgrade, which usually moves their
// session to another node. Every client must receive every number sent
// after it connected, exactly once and in order. At the end a cluster-wide
// fetch finds each socket once, with its rooms and the data it set.
//
// Usage: node js/cluster-handover-load.mjs '<json plan>'
// plan: { url, nodes: [url...], clients, waves, waveGapMs, ratePerSec, tailMs }
import { io } from "socket.io-client";
import { ack, connected, upgraded } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const errors = [];
const fail = (what) => errors.push(what);

const timer = setTimeout(() => {
  fail({ timedOut: true });
  finish({});
}, plan.timeoutMs ?? 90000);

const sockets = [];
function finish(extra) {
  clearTimeout(timer);
  for (const socket of sockets) socket.close();
  console.log(JSON.stringify({ errors, ...extra }));
  process.exit(0);
}



// A member of "bench": what it heard, and the last number sent before it
// connected (everything after must arrive).
async function member(name, url, options) {
  const socket = io(url, { forceNew: true, reconnection: false, ...options });
  sockets.push(socket);
  const state = { name, socket, heard: [], joinedAfter: null };
  socket.on("msg", (n) => state.heard.push(n));
  socket.on("disconnect", (reason) => finishing || fail({ name, disconnect: reason }));
  await connected(socket);
  state.joinedAfter = lastSent;
  return state;
}

function awaitUpgrade(state) {
  return upgraded(state.socket).catch((err) => fail({ name: state.name, upgrade: String(err) }));
}

let finishing = false;
let lastSent = 0;

// Every node already has a member, so a new socket never waits for its
// node's first subscription to the room: what is measured is the move.
const anchors = [];
for (const [index, url] of plan.nodes.entries()) {
  anchors.push(await member(`anchor-${index}`, url, { transports: ["websocket"] }));
}
const sender = anchors[0];
const sending = setInterval(() => {
  lastSent += 1;
  sender.socket.emit("fanout", lastSent);
}, 1000 / plan.ratePerSec);

const clients = [];
const perWave = Math.ceil(plan.clients / plan.waves);
for (let wave = 0; wave < plan.waves; wave += 1) {
  const batch = [];
  for (let i = wave * perWave; i < Math.min(plan.clients, (wave + 1) * perWave); i += 1) {
    batch.push(
      (async () => {
        const state = await member(`client-${i}`, plan.url, {});
        await ack(state.socket, "set-data", { index: i });
        await awaitUpgrade(state);
        return state;
      })().catch((err) => fail({ client: i, error: String(err) })),
    );
  }
  clients.push(...batch);
  await new Promise((resolve) => setTimeout(resolve, plan.waveGapMs));
}
const members = (await Promise.all(clients)).filter(Boolean);
await new Promise((resolve) => setTimeout(resolve, plan.tailMs));
clearInterval(sending);
const last = lastSent;

// Wait until everyone has the last number (or the deadline).
const everyone = [...anchors, ...members];
const deadline = Date.now() + 15000;
while (everyone.some((m) => m.heard.at(-1) !== last) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}

for (const m of everyone) {
  for (let i = 1; i < m.heard.length; i += 1) {
    if (m.heard[i] <= m.heard[i - 1]) {
      fail({ name: m.name, outOfOrderOrTwice: m.heard.slice(Math.max(0, i - 3), i + 3) });
      break;
    }
  }
  const heard = new Set(m.heard);
  const missing = [];
  for (let n = m.joinedAfter + 1; n <= last; n += 1) if (!heard.has(n)) missing.push(n);
  if (missing.length > 0) fail({ name: m.name, joinedAfter: m.joinedAfter, missing: missing.slice(0, 10) });
}

const transports = {};
for (const m of members) {
  const name = m.socket.io.engine.transport.name;
  transports[name] = (transports[name] ?? 0) + 1;
}

// The sockets moved with their ids, rooms and data.
const [found] = await ack(sender.socket, "fetch-sockets", { to: ["bench"] });
const byId = new Map();
for (const s of found) byId.set(s.id, (byId.get(s.id) ?? []).concat([s]));
for (const m of members) {
  const entries = byId.get(m.socket.id) ?? [];
  const expected = { index: Number(m.name.split("-")[1]) };
  if (entries.length !== 1 || JSON.stringify(entries[0].data) !== JSON.stringify(expected)) {
    fail({ name: m.name, fetched: entries });
  } else if (!entries[0].rooms.includes("bench") || !entries[0].rooms.includes(m.socket.id)) {
    fail({ name: m.name, rooms: entries[0].rooms });
  }
}

finishing = true;
finish({
  members: members.length,
  fetched: found.length,
  sent: last,
  transports,
  minHeard: Math.min(...members.map((m) => m.heard.length)),
});
