// bench/peers/seed_read.mjs — the seed's cache-aside read path (seeds/004,
// CacheUtil.getWithAutoRefresh minus the omitted background refresh):
// GET /api/books/:id → Redis GET book:<id>; hit → the stored JSON as is;
// miss → SELECT from PostgreSQL (pg Pool, max 10) → SET book:<id> <json> EX 300
// → send. No invalidation ordering: a load racing an UPDATE + DEL writes the
// old row back (the seed's bug, kept on purpose).
// The columns are Switchboard's own (src/store/statements.cpp SB_BOOK_COLUMNS,
// updated_at as RFC 3339 UTC with ms) so both servers send the same body.
//
// Env: PORT (default 18082), HOST (default 127.0.0.1), REDIS_URL (default
// redis://127.0.0.1:6379), DATABASE_URL (postgres URL, required),
// FRAMEWORK=express (default; the seed's NestJS runs on Express) | http
// (plain node:http + a regex route), COALESCE=1 (per-key promise coalescing
// of misses: one SELECT per key in flight). Prints `ready <port>` once
// listening; SIGTERM/SIGINT close everything and exit 0.
//   GET /api/books/<id> → 200 JSON | 404 {"error":"not_found"}
import http from 'node:http';
import Redis from 'ioredis';
import pg from 'pg';

const PORT = Number(process.env.PORT ?? 18082);
const HOST = process.env.HOST ?? '127.0.0.1';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL;
const FRAMEWORK = process.env.FRAMEWORK ?? 'express';
const COALESCE = process.env.COALESCE === '1';
const TTL_S = 300;
if (!DATABASE_URL) {
  console.error('seed_read: DATABASE_URL is required');
  process.exit(2);
}
if (FRAMEWORK !== 'express' && FRAMEWORK !== 'http') {
  console.error(`seed_read: FRAMEWORK must be express or http, not ${FRAMEWORK}`);
  process.exit(2);
}

// bigint ids as JSON numbers, like Switchboard (ids stay far below 2^53).
pg.types.setTypeParser(20, (v) => Number(v));

const SQL =
  'SELECT id, author_id, title, description, published, chapter_count, ' +
  `to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ` +
  'AS updated_at FROM books WHERE id = $1';

const redis = new Redis(REDIS_URL);
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });

// Miss path: SELECT, SET … EX 300; resolves to the JSON text or null.
async function load(id) {
  const { rows } = await pool.query({ name: 'book_by_id', text: SQL, values: [id] });
  if (rows.length === 0) return null;
  const json = JSON.stringify(rows[0]);
  await redis.set(`book:${id}`, json, 'EX', TTL_S);
  return json;
}

const inFlight = new Map(); // id → Promise<string|null>
function loadCoalesced(id) {
  let p = inFlight.get(id);
  if (!p) {
    p = load(id).finally(() => inFlight.delete(id));
    inFlight.set(id, p);
  }
  return p;
}
const loadBook = COALESCE ? loadCoalesced : load;

// Resolves to the JSON text, or null when there is no such book.
async function getBook(id) {
  const cached = await redis.get(`book:${id}`);
  if (cached) return cached;
  return loadBook(id);
}

const NOT_FOUND = '{"error":"not_found"}';
const ID_RE = /^\/api\/books\/(\d{1,18})$/;

let server;
if (FRAMEWORK === 'express') {
  const { default: express } = await import('express');
  const app = express();
  app.get('/api/books/:id', async (req, res) => {
    try {
      const id = req.params.id;
      const json = /^\d{1,18}$/.test(id) ? await getBook(id) : null;
      res.type('application/json');
      if (json === null) res.status(404).send(NOT_FOUND);
      else res.send(json);
    } catch (err) {
      res.status(500).type('application/json').send('{"error":"internal"}');
      console.error(err);
    }
  });
  server = http.createServer(app);
} else {
  server = http.createServer(async (req, res) => {
    const m = req.method === 'GET' ? ID_RE.exec(req.url) : null;
    let status = 404;
    let body = NOT_FOUND;
    if (m) {
      try {
        const json = await getBook(m[1]);
        if (json !== null) {
          status = 200;
          body = json;
        }
      } catch (err) {
        status = 500;
        body = '{"error":"internal"}';
        console.error(err);
      }
    }
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  });
}

server.keepAliveTimeout = 300_000;
server.headersTimeout = 301_000;
server.requestTimeout = 0;
await pool.query('SELECT 1'); // fail fast on a bad DATABASE_URL
server.listen({ port: PORT, host: HOST, backlog: 4096 }, () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections?.();
  redis.disconnect();
  pool.end().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
