// Drives npm socket.io-client against the echo app of a Switchyard node and
// prints one JSON line: what each scenario observed. The Rust tests assert
// on it; this script decides nothing.
//
// Usage: node js/socketio-client.mjs '<json plan>'
// plan: { url, transports, scenario: "basics" | "rooms" | "namespaces" }
import { io } from "socket.io-client";
import { ackWithin } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const options = { transports: plan.transports, forceNew: true, reconnection: false };

const timer = setTimeout(() => {
  console.log(JSON.stringify({ timedOut: true }));
  process.exit(1);
}, plan.timeoutMs ?? 15000);

function connect(nsp, extra = {}) {
  return new Promise((resolve, reject) => {
    const socket = io(plan.url + nsp, { ...options, ...extra });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(err));
  });
}

const next = (socket, event) => new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
// Every argument of the ack, not only the first.
const ack = ackWithin(5000);
// Buffers become plain arrays in the report so JSON can carry them.
const plain = (value) =>
  JSON.parse(
    JSON.stringify(value, (_, v) =>
      v && v.type === "Buffer" && Array.isArray(v.data) ? { buffer: v.data } : v,
    ),
  );

async function basics() {
  const report = {};
  const authRoot = { token: "abc", n: 1, nested: { list: [1, 2.5, "x"] } };
  const socket = io(plan.url, { ...options, auth: authRoot });
  const authEvent = next(socket, "auth");
  await next(socket, "connect");
  report.auth = (await authEvent)[0];
  report.socketIdDiffersFromEngine = socket.id !== socket.io.engine.id;

  const custom = io(plan.url + "/custom", { ...options, auth: { x: [1, 2] } });
  const customAuth = next(custom, "auth");
  await next(custom, "connect");
  report.customAuth = (await customAuth)[0];

  const noAuth = io(plan.url, options);
  report.emptyAuth = (await next(noAuth, "auth"))[0];
  noAuth.close();

  const args = [1, "two", { b: { c: [3, null, true] }, a: -0.5 }, [], "ünïcødé ✓"];
  const back = next(socket, "message-back");
  socket.emit("message", ...args);
  report.messageBack = await back;
  report.messageAck = await ack(socket, "message-with-ack", ...args);
  report.echoAck = await ack(socket, "echo", "only this", "not this");

  const binary = { file: Buffer.from([1, 2, 3, 255]), parts: [Buffer.from([]), { deep: Buffer.from([9]) }] };
  const binaryBack = next(socket, "message-back");
  socket.emit("message", "label", binary, Buffer.from([7, 7]));
  report.binaryBack = plain(await binaryBack);
  report.binaryAck = plain(await ack(socket, "message-with-ack", binary));

  // The server asks us for an ack: we answer one, ignore the other.
  socket.on("ask", (...received) => {
    const callback = received.pop();
    callback(...received, "answered", Buffer.from([4, 2]));
  });
  socket.on("ask-silent", () => {});
  report.serverAck = plain(await ack(socket, "request-ack", "ask", 5000, "q", { n: 1 }));
  report.serverAckTimeout = await ack(socket, "request-ack", "ask-silent", 200, "q");

  report.transport = socket.io.engine.transport.name;
  socket.close();
  custom.close();
  return report;
}

async function rooms() {
  const report = { received: { a: [], b: [], c: [] } };
  const [a, b, c] = await Promise.all([connect("/"), connect("/"), connect("/")]);
  const sockets = { a, b, c };
  for (const [name, socket] of Object.entries(sockets)) {
    socket.onAny((event, ...args) => {
      if (event !== "auth") report.received[name].push([event, ...args]);
    });
  }
  await ack(a, "join", "r1");
  await ack(b, "join", "r1");
  await ack(b, "join", "r2");
  await ack(c, "join", "r2");

  // After each step, a marker to the whole namespace: everything a socket
  // got before its marker is what that step delivered to it.
  const step = async (name, send) => {
    const markers = Object.values(sockets).map((socket) => next(socket, "marker"));
    await send();
    await ack(a, "broadcast", {}, "marker", name);
    await Promise.all(markers);
  };
  await step("one room", () => ack(a, "to-room", "r1", "hello", 1, { k: "v" }));
  await step("two rooms", () => ack(a, "broadcast", { to: ["r1", "r2"] }, "multi", 2));
  await step("except", () => ack(a, "broadcast", { to: ["r1", "r2"], except: ["r2"] }, "except", 3));
  await ack(b, "leave", "r1");
  await step("after leave", () => ack(a, "to-room", "r1", "after-leave", 4));
  await step("binary", () => ack(c, "to-room", "r2", "bin", Buffer.from([5, 6])));
  report.received = plain(report.received);
  for (const socket of Object.values(sockets)) socket.close();
  return report;
}

async function namespaces() {
  const report = {};
  try {
    await connect("/nope");
    report.invalid = "connected";
  } catch (err) {
    report.invalid = { message: err.message, data: err.data ?? null };
  }
  try {
    await connect("/", { auth: { reject: { code: 42, why: ["no"] } } });
    report.rejected = "connected";
  } catch (err) {
    report.rejected = { message: err.message, data: err.data ?? null };
  }

  // Two namespaces over one connection (one Manager).
  const root = io(plan.url, { transports: plan.transports, reconnection: false });
  await next(root, "connect");
  const custom = io(plan.url + "/custom", { transports: plan.transports, reconnection: false });
  await next(custom, "connect");
  const engineId = root.io.engine.id;
  report.sharedEngine = custom.io === root.io;
  const disconnected = next(custom, "disconnect");
  custom.disconnect();
  report.customDisconnect = (await disconnected)[0];
  report.rootStillWorks = await ack(root, "echo", "alive");
  report.sameEngine = root.io.engine.id === engineId && root.connected;

  // The namespace can be joined again on the same connection.
  const again = root.io.socket("/custom");
  again.connect();
  await next(again, "connect");
  report.rejoined = await ack(again, "echo", "back");
  report.rejoinedSameEngine = again.io.engine.id === engineId;
  again.close();
  root.close();
  return report;
}

const scenarios = { basics, rooms, namespaces };
try {
  const report = await scenarios[plan.scenario]();
  clearTimeout(timer);
  console.log(JSON.stringify(report));
  process.exit(0);
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exit(1);
}
