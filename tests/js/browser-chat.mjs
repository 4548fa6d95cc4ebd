// Drives headless Chromium (the system's, through puppeteer-core) against
// the chat example behind nginx, and prints one JSON line: what each page
// saw. The Rust test asserts on it; this script decides nothing.
//
// Usage: node js/browser-chat.mjs '<json plan>'
// plan: { lb: "127.0.0.1:<port>", chromium, screenshots: "<dir>" }
//
// Chromium maps the names chat.test and other.test to nginx, so the pages
// come from those origins while socket.io connects to http://<lb>: every
// request is cross-origin, and only chat.test is an allowed origin.
import { mkdirSync } from "node:fs";
import puppeteer from "puppeteer-core";

const plan = JSON.parse(process.argv[2]);
const server = `http://${plan.lb}`;
const report = {};
const timer = setTimeout(() => {
  console.log(JSON.stringify({ ...report, timedOut: true }));
  process.exit(1);
}, 60000);

const browser = await puppeteer.launch({
  executablePath: plan.chromium,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    `--host-resolver-rules=MAP chat.test ${plan.lb}, MAP other.test ${plan.lb}`,
  ],
});

const page = async (origin, query) => {
  const tab = await browser.newPage();
  await tab.setViewport({ width: 800, height: 500 });
  const params = new URLSearchParams({ ...query, server });
  await tab.goto(`http://${origin}/?${params}`);
  return tab;
};
const state = (tab) =>
  tab.evaluate(() => ({
    transport: window.chat.transport(),
    connected: window.chat.connected(),
    messages: window.chat.messages,
    error: window.chat.error,
    lastAck: window.chat.lastAck,
  }));
// Waits are the page's own events (chat.until): no polling, and they work
// in background tabs, where the browser throttles timers.
const sawMessages = (tab, count) =>
  tab.evaluate((n) => window.chat.until(() => window.chat.messages.length >= n), count);

try {
  const polling = await page("chat.test", { name: "ada", transports: "polling" });
  const upgrading = await page("chat.test", { name: "bob" });
  for (const tab of [polling, upgrading]) {
    await tab.evaluate(() => window.chat.until(() => window.chat.connected()));
  }
  await upgrading.evaluate(() => window.chat.until(() => window.chat.transport() === "websocket"));

  // ada sends from code and waits for the ack; bob types into the form.
  report.adaAck = await polling.evaluate(() => window.chat.say("hello from polling"));
  await sawMessages(upgrading, 1);
  await upgrading.type("#text", "hello from websocket");
  await upgrading.keyboard.press("Enter");
  for (const tab of [polling, upgrading]) await sawMessages(tab, 2);

  // A page from an origin that is not allowed cannot connect.
  const stranger = await page("other.test", { name: "eve" });
  await stranger.evaluate(() => window.chat.until(() => window.chat.error !== null));

  report.polling = await state(polling);
  report.upgrading = await state(upgrading);
  report.stranger = await state(stranger);

  mkdirSync(plan.screenshots, { recursive: true });
  report.screenshots = [];
  for (const [name, tab] of [["polling", polling], ["websocket", upgrading], ["refused", stranger]]) {
    const path = `${plan.screenshots}/chat-${name}.png`;
    await tab.screenshot({ path });
    report.screenshots.push(path);
  }
} catch (err) {
  report.error = String(err && err.stack ? err.stack : err);
  // What each page had seen when it failed.
  for (const [index, tab] of (await browser.pages()).entries()) {
    report[`page${index}`] = await state(tab).catch(() => null);
  }
} finally {
  await browser.close();
  clearTimeout(timer);
}
console.log(JSON.stringify(report));
