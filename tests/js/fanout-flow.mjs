// A sender broadcasts numbered `fanout` messages to room `bench` in batches,
// each batch once the receiver has had the previous one, so that the
// receiver itself is never a slow consumer. Prints what the receiver got.
//
// Usage: node js/fanout-flow.mjs '<json plan>'
// plan: { url, broadcasts, size, batch }
import { io } from "socket.io-client";
import { connected } from "./lib.mjs";

const plan = JSON.parse(process.argv[2]);
const timer = setTimeout(() => {
  console.log(JSON.stringify({ timedOut: true, received }));
  process.exit(1);
}, plan.timeoutMs ?? 120000);

const options = { transports: ["websocket"], forceNew: true, reconnection: false };
const sender = io(plan.url, options);
const receiver = io(plan.url, options);
await Promise.all([connected(sender), connected(receiver)]);

let received = 0;
let inOrder = true;
let waiting = null;
receiver.on("msg", ({ seq }) => {
  if (seq !== received) inOrder = false;
  received += 1;
  if (waiting && received >= waiting.count) waiting.resolve();
});
const receivedAll = (count) =>
  received >= count ? Promise.resolve() : new Promise((resolve) => (waiting = { count, resolve }));

const pad = "x".repeat(plan.size);
for (let sent = 0; sent < plan.broadcasts; ) {
  const end = Math.min(sent + plan.batch, plan.broadcasts);
  for (; sent < end; sent++) sender.emit("fanout", { seq: sent, pad });
  await receivedAll(end);
}
clearTimeout(timer);
console.log(JSON.stringify({ received, inOrder, receiverConnected: receiver.connected }));
sender.close();
receiver.close();
process.exit(0);
