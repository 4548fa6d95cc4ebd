// Broadcasts keep reaching the clients of the other nodes while one node
// drains. Members of room "bench" (every echo socket joins it) connect
// straight to the nodes in plan.members; a sender on the first of them
// broadcasts a sequence number at a fixed rate.
//
// Phase 1 connects everyone, starts sending and reports "sending"; phase 2
// (on a line on stdin, once the test has stopped a node) sends for another
// second, then reports, for each member, the numbers it missed or got twice
// or out of order since it connected.
//
// Usage: node js/cluster-drain.mjs '<json plan>'
// plan: { members: [url...], ratePerSec }
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { connected } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const stdin = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => stdin.once("line", resolve));
const timer = setTimeout(() => {
  console.log(JSON.stringify({ timedOut: true }));
  process.exit(1);
}, 60000);

let lastSent = 0;
let finishing = false;
const members = [];
for (const [index, url] of plan.members.entries()) {
  const socket = io(url, { forceNew: true, transports: ["websocket"], reconnection: false });
  const member = { index, socket, heard: [], from: 0, disconnects: [] };
  socket.on("msg", (n) => member.heard.push(n));
  socket.on("disconnect", (reason) => finishing || member.disconnects.push(reason));
  await connected(socket);
  member.from = lastSent;
  members.push(member);
}
const sender = members[0].socket;
const sending = setInterval(() => {
  lastSent += 1;
  sender.emit("fanout", lastSent);
}, 1000 / plan.ratePerSec);
console.log(JSON.stringify({ sending: true }));

await nextLine();
await new Promise((resolve) => setTimeout(resolve, 1000));
clearInterval(sending);
const last = lastSent;
const deadline = Date.now() + 10000;
while (members.some((m) => m.heard.at(-1) !== last) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const problems = [];
for (const m of members) {
  const expected = [];
  for (let n = m.from + 1; n <= last; n += 1) expected.push(n);
  const got = m.heard.filter((n) => n > m.from);
  if (JSON.stringify(got) !== JSON.stringify(expected) || m.disconnects.length > 0) {
    problems.push({ index: m.index, from: m.from, got: got.length, expected: expected.length, disconnects: m.disconnects });
  }
}
finishing = true;
clearTimeout(timer);
for (const m of members) m.socket.close();
console.log(JSON.stringify({ sent: last, members: members.length, problems }));
process.exit(0);
