// A session's move between nodes is cut short by kill -9 of the node it
// leaves (the owner) or of the node it moves to (the taker), at the moment
// the client has its probe answered. The victim polls the owner directly
// and has its WebSocket pinned to the taker, so both are known; it
// reconnects through the load balancer. Bystanders connected to the
// surviving nodes must not notice.
//
// Usage: node js/cluster-handover-kill.mjs '<json plan>'
// plan: { lb, owner: {url, pid}, taker: {host, port, pid}, kill: "owner"|"taker",
//         bystanders: [url...] }
import { io } from "socket.io-client";
import { ack, connected } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const report = { bystanderDisconnects: [], errors: [] };
const sockets = [];
const timer = setTimeout(() => {
  report.timedOut = true;
  finish();
}, 60000);

function finish() {
  clearTimeout(timer);
  for (const socket of sockets) socket.close();
  console.log(JSON.stringify(report));
  process.exit(0);
}



// Bystanders on the nodes that survive: in room "calm", echoing.
const bystanders = [];
for (const [index, url] of plan.bystanders.entries()) {
  const socket = io(url, { forceNew: true, transports: ["websocket"], reconnection: false });
  sockets.push(socket);
  const state = { socket, heard: [] };
  socket.on("calm", (n) => state.heard.push(n));
  socket.on("disconnect", (reason) => report.finishing || report.bystanderDisconnects.push({ index, reason }));
  await connected(socket);
  await ack(socket, "join", "calm");
  bystanders.push(state);
}

// The victim: polling on the owner, its WebSocket pinned to the taker.
const victim = io(plan.owner.url, {
  forceNew: true,
  reconnectionDelay: 100,
  reconnectionDelayMax: 500,
  transportOptions: { websocket: { hostname: plan.taker.host, port: plan.taker.port } },
});
sockets.push(victim);
let killed = false;
let firstSid = null;
victim.io.once("open", () => {
  firstSid = victim.io.engine.id;
  victim.io.engine.once("upgrading", () => {
    // Synchronously, before the client pauses polling and sends its `5`.
    process.kill(plan.kill === "owner" ? plan.owner.pid : plan.taker.pid, "SIGKILL");
    killed = true;
  });
});
// Reconnect through the load balancer, with nothing pinned.
victim.io.on("reconnect_attempt", () => {
  victim.io.uri = plan.lb;
  victim.io.opts.transportOptions = {};
});
// The probe can be answered before the namespace's CONNECT reply arrives
// over polling, so the kill may come before the first connect or after it:
// the client then sees a connect error or a disconnect, and reconnects
// either way. Recovery is the first connect after that failure.
let failedAfterKill = false;
const failed = (reason) => {
  if (!killed) return;
  report.closeReason ??= reason;
  failedAfterKill = true;
};
victim.on("disconnect", (reason) => failed(reason));
victim.on("connect_error", (err) => failed(`connect_error: ${err.message}`));
await new Promise((resolve) => {
  victim.on("connect", () => {
    if (failedAfterKill) resolve();
  });
});
report.firstSid = firstSid;
report.killed = killed;
report.secondSid = victim.io.engine.id;
const value = { after: "recovery" };
const [echoed] = await ack(victim, "echo", value);
report.recovered = JSON.stringify(echoed) === JSON.stringify(value);

// The bystanders still work, and hear a broadcast sent after the recovery.
for (const [index, state] of bystanders.entries()) {
  try {
    const [back] = await ack(state.socket, "echo", index);
    if (back !== index) report.errors.push({ index, echoed: back });
  } catch (err) {
    report.errors.push({ index, error: String(err) });
  }
}
await ack(victim, "to-room", "calm", "calm", 1);
const deadline = Date.now() + 10000;
while (bystanders.some((b) => b.heard.length === 0) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
report.bystandersHeard = bystanders.map((b) => b.heard);
report.finishing = true;
finish();
