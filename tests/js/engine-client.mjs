// Drives npm engine.io-client against a Switchyard node and reports, as one
// JSON line on stdout, everything it observed. The Rust tests assert on it.
//
// Usage: node js/engine-client.mjs '<json plan>'
// plan: { url, path, transports, texts: [..], binaries: [[bytes]..],
//         pings: N (wait for N server pings), expectUpgrade: bool, timeoutMs }
import { Socket } from "engine.io-client";

const plan = JSON.parse(process.argv[2]);
const report = {
  opened: false,
  openTransport: null,
  sid: null,
  upgraded: false,
  finalTransport: null,
  texts: [],
  binaries: [],
  pings: 0,
  closeReason: null,
  error: null,
  timedOut: false,
};

const socket = new Socket(plan.url, {
  path: plan.path,
  transports: plan.transports,
});

const wanted = plan.texts.length + plan.binaries.length;
let received = 0;
let sentSecondHalf = false;

function done() {
  return (
    received === wanted &&
    report.pings >= (plan.pings ?? 0) &&
    (!plan.expectUpgrade || report.upgraded)
  );
}

function finish() {
  report.finalTransport = socket.transport ? socket.transport.name : null;
  clearTimeout(timer);
  socket.off("close");
  socket.close();
  process.stdout.write(JSON.stringify(report) + "\n");
  process.exit(0);
}

// Half of the messages go out at open, the rest once the socket has
// upgraded (or at once when no upgrade is expected), so that with the
// default transports they cross the polling -> websocket switch.
function sendHalf(first) {
  const pick = (list) => list.filter((_, i) => (i % 2 === 0) === first);
  for (const text of pick(plan.texts)) socket.send(text);
  for (const bytes of pick(plan.binaries)) socket.send(Uint8Array.from(bytes));
}

const timer = setTimeout(() => {
  report.timedOut = true;
  finish();
}, plan.timeoutMs ?? 10000);

socket.on("open", () => {
  report.opened = true;
  report.openTransport = socket.transport.name;
  report.sid = socket.id;
  sendHalf(true);
  if (!plan.expectUpgrade) {
    sentSecondHalf = true;
    sendHalf(false);
  }
});
socket.on("upgrade", () => {
  report.upgraded = true;
  if (!sentSecondHalf) {
    sentSecondHalf = true;
    sendHalf(false);
  }
  if (done()) finish();
});
socket.on("message", (data) => {
  received += 1;
  if (typeof data === "string") report.texts.push(data);
  else report.binaries.push(Array.from(new Uint8Array(data)));
  if (done()) finish();
});
socket.on("ping", () => {
  report.pings += 1;
  if (done()) finish();
});
socket.on("error", (err) => {
  report.error = String(err && err.message ? err.message : err);
});
socket.on("close", (reason) => {
  report.closeReason = reason;
  finish();
});
