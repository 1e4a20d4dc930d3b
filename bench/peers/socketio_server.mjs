// bench/peers/socketio_server.mjs — the "what most teams would reach for"
// live-update peer: Socket.IO 4.8 + @socket.io/redis-adapter 8.3 (two ioredis
// connections, pub and sub), WebSocket transport only, no permessage-deflate.
// Rooms are the channels; POST /publish → io.to(channel).emit('message', data)
// which the adapter fans out through Redis to every node (here: one).
// A benchmark peer: no auth.
//
// Env: PORT (default 18081), REDIS_URL (default redis://127.0.0.1:6379),
// HOST (default 127.0.0.1). Prints `ready <port>` once listening; SIGTERM/
// SIGINT close everything and exit 0.
//   WS   /socket.io/?EIO=4&transport=websocket[&channel=<name>]
//        Server sends `0{"sid":..}`; the client must send `40` (connect to
//        the default namespace, Socket.IO v5 protocol), server answers
//        `40{"sid":..}` and then joins <name> when given in the query; or the
//        client sends `42["subscribe","<name>"]` / with ack
//        `421["subscribe","<name>"]` → `431[true]`. Messages arrive as text
//        frames `42["message",{...}]`. Server pings `2` every 25 s: answer `3`.
//   POST /publish {"channel":"<name>","data":{...}} → 202 {}
import http from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';

const PORT = Number(process.env.PORT ?? 18081);
const HOST = process.env.HOST ?? '127.0.0.1';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const pubClient = new Redis(REDIS_URL);
const subClient = pubClient.duplicate();

const server = http.createServer();
const io = new Server({
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  cors: { origin: true },
  pingInterval: 25_000,
  pingTimeout: 60_000,
  maxHttpBufferSize: 1e6,
  adapter: createAdapter(pubClient, subClient),
});

// /publish first, /socket.io/ to socket.io, 404 for the rest (engine.io
// would otherwise leave other paths unanswered).
const ioHandlers = () => server.listeners('request').slice();
io.attach(server);
const socketIoRequest = ioHandlers();
server.removeAllListeners('request');
server.on('request', (req, res) => {
  if (req.method === 'POST' && req.url.split('?', 1)[0] === '/publish') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end('{"error":"bad_json"}');
        return;
      }
      if (typeof body.channel !== 'string') {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end('{"error":"channel"}');
        return;
      }
      io.to(body.channel).emit('message', body.data);
      res.writeHead(202, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
    return;
  }
  if (req.url.startsWith('/socket.io/')) {
    for (const h of socketIoRequest) h.call(server, req, res);
    return;
  }
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end('{"error":"not_found"}');
});

io.on('connection', (socket) => {
  const q = socket.handshake.query.channel;
  if (typeof q === 'string' && q !== '') socket.join(q);
  socket.on('subscribe', (channel, ack) => {
    if (typeof channel === 'string' && channel !== '') socket.join(channel);
    if (typeof ack === 'function') ack(true);
  });
});

server.keepAliveTimeout = 300_000;
server.headersTimeout = 301_000;
server.requestTimeout = 0;
await Promise.all([
  new Promise((r) => (pubClient.status === 'ready' ? r() : pubClient.once('ready', r))),
  new Promise((r) => (subClient.status === 'ready' ? r() : subClient.once('ready', r))),
]);
server.listen({ port: PORT, host: HOST, backlog: 4096 }, () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  io.disconnectSockets(true);
  io.close();
  server.closeAllConnections?.();
  pubClient.disconnect();
  subClient.disconnect();
  setTimeout(() => process.exit(0), 50).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
