// The reference echo app (the subset the benchmarks use) on Node's http
// server with socket.io, as a peer to measure Switchyard against.
//
//   PORT=3000 [HOST=127.0.0.1] [REDIS_URL=redis://127.0.0.1:6379] node server.mjs
//
// With REDIS_URL set, the process uses @socket.io/redis-adapter (a pub/sub
// client pair), so that several processes pointed at the same redis form one
// cluster: broadcasts to a room reach its sockets on every process.
import { createServer } from "node:http";
import { Server } from "socket.io";

const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 3000);
const redisUrl = process.env.REDIS_URL;

const httpServer = createServer();
const io = new Server(httpServer, {
  path: "/socket.io/",
  transports: ["polling", "websocket"],
  maxHttpBufferSize: 1e6,
  // pingInterval / pingTimeout: the defaults (25000 / 20000)
});

if (redisUrl) {
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const pubClient = createClient({ url: redisUrl });
  const subClient = pubClient.duplicate();
  for (const [name, client] of [["pub", pubClient], ["sub", subClient]]) {
    client.on("error", (err) => console.error(`redis ${name} client: ${err.message}`));
  }
  await Promise.all([pubClient.connect(), subClient.connect()]);
  io.adapter(createAdapter(pubClient, subClient));
  console.log(`redis adapter on ${redisUrl}`);
}

// Splits off the ack callback, when the client asked for one.
function withAck(args) {
  const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
  return [args, ack];
}

io.on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth ?? {});
  socket.join("bench");

  socket.on("echo", (...raw) => {
    const [args, ack] = withAck(raw);
    if (ack) ack(args[0]);
  });

  socket.on("fanout", (...raw) => {
    const [args] = withAck(raw);
    io.to("bench").emit("msg", args[0]);
  });

  socket.on("message", (...raw) => {
    const [args] = withAck(raw);
    socket.emit("message-back", ...args);
  });

  socket.on("message-with-ack", (...raw) => {
    const [args, ack] = withAck(raw);
    if (ack) ack(...args);
  });

  socket.on("join", async (...raw) => {
    const [args, ack] = withAck(raw);
    await socket.join(args[0]);
    if (ack) ack();
  });

  socket.on("leave", async (...raw) => {
    const [args, ack] = withAck(raw);
    await socket.leave(args[0]);
    if (ack) ack();
  });

  socket.on("to-room", (...raw) => {
    const [[room, event, ...args], ack] = withAck(raw);
    try {
      io.to(room).emit(event, ...args);
    } catch (err) {
      // a reserved event name ("connect", "disconnect", ...): nothing is sent
      console.error(`to-room: ${err.message}`);
    }
    if (ack) ack();
  });
});

httpServer.listen(port, host, () => {
  const { address, port: bound } = httpServer.address();
  const shown = address.includes(":") ? `[${address}]` : address;
  console.log(`listening on ${shown}:${bound}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => process.exit(0));
}
