// npm socket.io-client against nodes running the bridge app behind nginx
// round-robin. Prints one JSON line of what the clients saw and what the
// HTTP API answered; the Rust test, which plays the back-end, asserts.
//
// Usage: node js/bridge-clients.mjs '<json plan>'
// plan: { url, scenario: "events" | "auth" | "api" | "chat", token? }
import { io } from "socket.io-client";
import { ackWithin, connected } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const report = {};
const timer = setTimeout(() => {
  console.log(JSON.stringify({ ...report, timedOut: true }));
  process.exit(1);
}, plan.timeoutMs ?? 30000);

const open = (auth = {}) =>
  io(plan.url, { auth, forceNew: true, reconnection: false });
// The node a client's session lives on: the sid starts with its id.
const nodeOf = (socket) => socket.io.engine.id.split("-")[0];
const next = (socket, event) => new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
const closed = (socket) => new Promise((resolve) => socket.once("disconnect", resolve));

// POST /api/v1/<op>, with the plan's token unless `token` says otherwise.
async function api(op, body, token = plan.token) {
  const headers = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${plan.url}/api/v1/${op}`, { method: "POST", headers, body: JSON.stringify(body) });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: response.status, body: json ?? text };
}

// Events with and without acks, binary included, then a disconnect.
async function events() {
  const socket = open({ user: "ada" });
  await connected(socket);
  report.socketId = socket.id;
  socket.emit("note", "hi", { n: 1 }, Buffer.from([1, 2, 3]));
  report.answer = await ackWithin(5000)(socket, "ask", "q", 7);
  try {
    await socket.timeout(1500).emitWithAck("slow", "nobody answers");
    report.slow = "acked";
  } catch (err) {
    report.slow = err.message;
  }
  socket.disconnect();
}

// The connect hook: refused with no back-end, then accepted and refused
// by the back-end's decision. The accepted socket's data and rooms are
// read back through the HTTP API, and an emit to its room reaches it.
async function auth() {
  const attempt = async (auth) => {
    const socket = open(auth);
    try {
      await connected(socket);
      return { socket };
    } catch (err) {
      socket.close();
      return { error: { message: err.message, data: err.data ?? null } };
    }
  };
  if (plan.phase === "unanswered") {
    report.unanswered = (await attempt({ token: "good" })).error ?? "connected";
    return;
  }
  report.refused = (await attempt({ token: "bad" })).error ?? "connected";
  const { socket, error } = await attempt({ token: "good" });
  if (!socket) throw new Error(`not accepted: ${JSON.stringify(error)}`);
  report.fetched = (await api("fetch", { rooms: ["vip"] })).body;
  report.socketId = socket.id;
  const vip = next(socket, "welcome");
  report.emitted = (await api("emit", { rooms: ["vip"], event: "welcome", args: ["to the vip room"] })).body;
  report.welcome = await vip;
  socket.disconnect();
}

// The HTTP API against clients on both nodes.
async function apiScenario() {
  report.noToken = (await api("fetch", {}, null)).status;
  report.wrongToken = (await api("fetch", {}, `${plan.token}x`)).status;
  report.unknownOp = (await api("nope", {})).status;
  report.badBody = await api("emit", { event: "" });

  // Clients until both nodes have one. Round-robin alternates per request,
  // and each connection makes the same number of requests, so a request
  // of our own between two connections moves the next handshake along.
  const clients = [];
  for (let i = 0; i < 6 && new Set(clients.map(nodeOf)).size < 2; i++) {
    const socket = open();
    await connected(socket);
    socket.on("question", (n, reply) => reply(socket.id, n * 2));
    clients.push(socket);
    await fetch(`${plan.url}/health`);
  }
  const [a, b] = [clients.find((s) => nodeOf(s) === nodeOf(clients[0])), clients.find((s) => nodeOf(s) !== nodeOf(clients[0]))];
  if (!b) throw new Error("every client landed on one node");
  report.nodes = [nodeOf(a), nodeOf(b)];
  report.clients = clients.length;

  const everyone = clients.map((s) => next(s, "news"));
  report.emit = (await api("emit", { event: "news", args: ["for all", { n: 1 }] })).body;
  report.news = await Promise.all(everyone);

  report.join = (await api("join", { rooms: [a.id, b.id], room: "team" })).body;
  report.fetchTeam = (await api("fetch", { rooms: ["team"] })).body;
  const teamA = next(a, "team-news");
  const teamB = next(b, "team-news");
  await api("emit", { rooms: ["team"], event: "team-news", args: [1] });
  report.teamNews = await Promise.all([teamA, teamB]);

  report.leave = (await api("leave", { rooms: [a.id], room: "team" })).body;
  const onlyB = next(b, "team-news");
  let aHeard = false;
  a.on("team-news", () => (aHeard = true));
  await api("emit", { rooms: ["team"], event: "team-news", args: [2] });
  report.afterLeave = await onlyB;
  // A round trip to a after the emit: anything for it would have come first.
  const marker = next(a, "marker");
  await api("emit", { rooms: [a.id], event: "marker", args: [] });
  await marker;
  report.aHeardAfterLeave = aHeard;

  report.acks = (await api("emit", { event: "question", args: [21], ack_timeout_ms: 5000 })).body;

  const bGone = closed(b);
  report.disconnect = (await api("disconnect", { rooms: [b.id] })).body;
  report.disconnectReason = await bGone;
  report.fetchAfter = (await api("fetch", {})).body;
  for (const socket of clients) socket.disconnect();
}

// The README's chat back-end: two users in one room say hello.
async function chat() {
  const ada = open({ name: "ada", room: "lobby" });
  const bob = open({ name: "bob", room: "lobby" });
  await Promise.all([connected(ada), connected(bob)]);
  const nameless = open({});
  try {
    await connected(nameless);
    report.nameless = "connected";
  } catch (err) {
    report.nameless = { message: err.message, data: err.data ?? null };
  }
  const heard = (socket, count) =>
    new Promise((resolve) => {
      const lines = [];
      socket.on("said", (line) => lines.push(line) === count && resolve(lines));
    });
  const adaHeard = heard(ada, 2);
  const bobHeard = heard(bob, 2);
  report.adaAck = await ada.timeout(5000).emitWithAck("say", "hello from ada");
  report.bobAck = await bob.timeout(5000).emitWithAck("say", "hello from bob");
  report.ada = await adaHeard;
  report.bob = await bobHeard;
  ada.disconnect();
  bob.disconnect();
}

const scenarios = { events, auth, api: apiScenario, chat };
try {
  await scenarios[plan.scenario]();
} catch (err) {
  report.error = String(err && err.stack ? err.stack : err);
}
clearTimeout(timer);
console.log(JSON.stringify(report));
process.exit(0);
