// bench/peers/seed_live.mjs — the seed's live-update design (seeds/004, the
// NestJS NotificationGateway), without NestJS: node:http + ws + ioredis.
// A local Map<channel, Set<socket>>; POST /publish → PUBLISH on the one Redis
// channel `notifications`; one subscriber connection; per message JSON.parse,
// look up the set, and socket.send(JSON.stringify(data)) per socket (the
// stringify inside the loop, exactly as the seed does). SSE clients share the
// map. A benchmark peer: no auth, no validation beyond what the seed does.
//
// Env: PORT (default 18080), REDIS_URL (default redis://127.0.0.1:6379),
// HOST (default 127.0.0.1). Prints `ready <port>` once listening; SIGTERM/
// SIGINT close everything and exit 0.
//   GET  /ws?channel=<name>   WebSocket; receives each message's `data` as a
//                             text frame (JSON)
//   GET  /sse?channel=<name>  Server-Sent Events; `data: <json>\n\n`
//   POST /publish {"channel":"<name>","data":{...}} → 202 {}
import http from 'node:http';
import { WebSocketServer } from 'ws';
import Redis from 'ioredis';

const PORT = Number(process.env.PORT ?? 18080);
const HOST = process.env.HOST ?? '127.0.0.1';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const clientsByChannel = new Map(); // channel → Set<{ send(string) }>

function add(channel, socket) {
  let set = clientsByChannel.get(channel);
  if (!set) clientsByChannel.set(channel, (set = new Set()));
  set.add(socket);
}
function remove(channel, socket) {
  const set = clientsByChannel.get(channel);
  if (!set) return;
  set.delete(socket);
  if (set.size === 0) clientsByChannel.delete(channel);
}

const pubClient = new Redis(REDIS_URL);
const subClient = new Redis(REDIS_URL);
await subClient.subscribe('notifications');
subClient.on('message', (_channel, message) => {
  const { channel, data } = JSON.parse(message);
  const sockets = clientsByChannel.get(channel);
  if (sockets) {
    for (const socket of sockets) {
      socket.send(JSON.stringify(data));
    }
  }
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const sseClients = new Set();

function channelOf(req) {
  return new URL(req.url, 'http://x').searchParams.get('channel');
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?', 1)[0];
  if (req.method === 'POST' && path === '/publish') {
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
      pubClient.publish(
        'notifications',
        JSON.stringify({ channel: body.channel, data: body.data }),
      );
      res.writeHead(202, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
    return;
  }
  if (req.method === 'GET' && path === '/sse') {
    const channel = channelOf(req);
    if (!channel) {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    });
    res.write(':ok\n\n');
    const client = { send: (s) => res.write(`data: ${s}\n\n`), res };
    add(channel, client);
    sseClients.add(client);
    req.socket.setNoDelay(true);
    res.on('close', () => {
      remove(channel, client);
      sseClients.delete(client);
    });
    return;
  }
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end('{"error":"not_found"}');
});

server.on('upgrade', (req, socket, head) => {
  const channel = channelOf(req);
  if (req.url.split('?', 1)[0] !== '/ws' || !channel) {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    add(channel, ws);
    ws.on('close', () => remove(channel, ws));
    ws.on('error', () => {});
  });
});

server.keepAliveTimeout = 300_000;
server.headersTimeout = 301_000;
server.requestTimeout = 0;
server.listen({ port: PORT, host: HOST, backlog: 4096 }, () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  for (const ws of wss.clients) ws.terminate();
  for (const c of sseClients) c.res.destroy();
  server.close();
  server.closeAllConnections?.();
  wss.close();
  pubClient.disconnect();
  subClient.disconnect();
  setTimeout(() => process.exit(0), 50).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
