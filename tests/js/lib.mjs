// Helpers shared by the client scripts.

// An `ack(socket, event, ...args)` that resolves with the ack's arguments
// (an array), or rejects when none comes within `ms`.
export const ackWithin = (ms) => (socket, event, ...args) =>
  new Promise((resolve, reject) =>
    socket.timeout(ms).emit(event, ...args, (err, ...response) => (err ? reject(err) : resolve(response))),
  );

// Emits `event` and resolves with the ack's arguments, within 10 s.
export const ack = ackWithin(10000);

// Resolves once the socket is connected; rejects on a connect error.
export const connected = (socket) =>
  new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });

// Resolves once the socket's engine runs on WebSocket; rejects with the
// upgrade error, or when there is no upgrade within `ms`.
export function upgraded(socket, ms = 10000) {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no upgrade within ${ms} ms`)), ms);
    engine.once("upgrade", () => {
      clearTimeout(timer);
      resolve();
    });
    engine.once("upgradeError", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
