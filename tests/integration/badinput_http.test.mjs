// badinput_http — the bad-input suite, HTTP side, over real sockets: requests
// cut short (request line, headers, body; with EOF or left hanging), heads
// that never complete, malformed request lines and headers, oversized
// headers and bodies, wrong Content-Types, invalid UTF-8 and malformed JSON
// (deep nesting, huge numbers, duplicate keys), ids out of range in paths,
// queries and bodies, negative / zero / fractional / overflowing coin
// amounts, SQL metacharacters in every text field (stored verbatim when
// valid, refused when not), non-UTF-8 header values and echoed input, and
// writes to other users' things. Each gets the contract's status and error
// body, changes nothing stored (the users' rows in PostgreSQL and the
// cluster's keys in Redis are compared before and after) and leaves the node
// serving everyone else (/healthz and a fresh WebSocket round trip); every
// node must exit 0 afterwards (liveCluster checks).
// Never: sleeps for time — every wait is for an answer, a close or a frame,
// with a deadline; a timeout is shortened through its config key instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { API_KEY, api, register, rawRequest, sql } from './lib/harness.mjs';
import { liveCluster } from './lib/live.mjs';
import { assertError, coinPackage, newBook, newChapter, stamp } from './lib/platform.mjs';
import {
  assertServing, assertUnchanged, connectionClosed, httpResponses, rawApi, rawConnection, snapshot,
} from './lib/badinput.mjs';

// Many requests per token in a short time here; the per-token rate limit
// (requests_per_token_per_s) is tested elsewhere.
const NO_TOKEN_LIMIT = { SB_REQUESTS_PER_TOKEN_PER_S: '0' };
const md5 = (s) => createHash('md5').update(s, 'utf8').digest('hex');
const latin1 = (b) => Buffer.from(b).toString('latin1');

/** The only answer in a raw exchange: asserts one HTTP response with `status` and error `code`. */
function assertRawError(data, status, code, what) {
  const responses = httpResponses(data);
  assert.equal(responses.length, 1, `${what}: exactly one response; got ${JSON.stringify(data.slice(0, 300))}`);
  const [res] = responses;
  assert.equal(res.status, status, `${what}: ${JSON.stringify(data.slice(0, 300))}`);
  assert.match(res.head, /\r\ncontent-type: application\/json/i, `${what}: a JSON error body`);
  assert.equal(res.json?.error?.code, code, `${what}: ${res.body}`);
  assert.ok(res.json.error.message?.length > 0, `${what}: the error has a message`);
}

test('requests cut short are closed without being acted on (silently or with 400), and never hold up anyone else', async (t) => {
  const [node] = await liveCluster(t, 1, { ...NO_TOKEN_LIMIT, SB_REQUEST_TIMEOUT_MS: '1000' }, { name: 'bitrunc' });
  const me = await register(node);
  const before = snapshot(node.prefix, [me.user.id]);
  const body = JSON.stringify({ title: `truncated ${stamp()}` });
  const head = (extra) =>
    `POST /api/books HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${me.token}\r\nContent-Type: application/json\r\n${extra}\r\n`;
  const cases = [
    ['a request line cut short, then EOF', 'POST /api/bo', true],
    ['headers without their blank line, then EOF', head(`Content-Length: ${body.length}\r\n`).slice(0, -2), true],
    ['a body shorter than its Content-Length, then EOF', head(`Content-Length: ${body.length + 50}\r\n`) + body, true],
    ['a body shorter than its Content-Length, left open', head(`Content-Length: ${body.length + 50}\r\n`) + body, false],
    ['a body one byte short, left open', head(`Content-Length: ${body.length}\r\n`) + body.slice(0, -1), false],
    ['a chunked body without its last chunk, left open', head('Transfer-Encoding: chunked\r\n') + `${body.length.toString(16)}\r\n${body}\r\n`, false],
    ['a chunk shorter than its size, left open', head('Transfer-Encoding: chunked\r\n') + `${(body.length + 9).toString(16)}\r\n${body}`, false],
  ];
  const conns = [];
  for (const [what, bytes, eof] of cases) {
    const conn = await rawConnection(node.port);
    await conn.write(bytes);
    if (eof) conn.socket.end();
    conns.push([what, conn]);
  }
  // While all of them hang or close, everyone else is served.
  await assertServing(node, 'while truncated requests are pending');
  for (const [what, conn] of conns) {
    await connectionClosed(conn, 5000, `the server to close the connection of "${what}" (request_timeout_ms = 1000)`);
    const responses = httpResponses(latin1(conn.data()));
    for (const r of responses)
      assert.ok(r.status === 400 || r.status === 408, `${what}: only a 400/408 may answer it, got ${r.status} ${r.body}`);
  }
  assertUnchanged(before, node.prefix, [me.user.id], 'truncated requests');
  await assertServing(node);
});

test('a request head that never completes is closed within request_timeout_ms, not left open for idle_timeout_ms', async (t) => {
  // docs/operations.md: request_timeout_ms — "a started request must arrive
  // within this"; idle_timeout_ms is for idle keep-alive connections.
  const [node] = await liveCluster(t, 1, { SB_REQUEST_TIMEOUT_MS: '1000', SB_IDLE_TIMEOUT_MS: '30000' }, { name: 'bislow' });
  const partial = {
    'half a request line': 'GET /heal',
    'a request line and some headers': 'GET /healthz HTTP/1.1\r\nHost: x\r\n',
    'a second request started on a kept-alive connection': 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHo',
  };
  const conns = await Promise.all(
    Object.entries(partial).map(async ([what, bytes]) => {
      const conn = await rawConnection(node.port);
      await conn.write(bytes);
      return [what, conn];
    }),
  );
  await assertServing(node, 'while request heads are pending');
  const started = Date.now();
  const results = await Promise.all(
    conns.map(([what, conn]) =>
      connectionClosed(conn, 5000).then(
        () => null,
        () => `${what}: still open after ${Date.now() - started} ms (request_timeout_ms = 1000, idle_timeout_ms = 30000)`,
      ),
    ),
  );
  assert.deepEqual(results.filter(Boolean), [], 'every unfinished request head is closed within the request timeout');
});

test('malformed request lines and headers get 400 bad_request and a closed connection; unknown methods 405', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'bimalformed' });
  const cases = {
    'garbage': 'GARBAGE\r\n\r\n',
    'a method with a bad character': 'G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    'an unknown HTTP version': 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n',
    'no HTTP version': 'GET /healthz\r\nHost: x\r\n\r\n',
    'a NUL in the target': 'GET /healthz\x00 HTTP/1.1\r\nHost: x\r\n\r\n',
    'a space in the target': 'GET /heal thz HTTP/1.1\r\nHost: x\r\n\r\n',
    'bare LF line ends': 'GET /healthz HTTP/1.1\nHost: x\n\n',
    'a header without a colon': 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
    'a space in a header name': 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n',
    'a space before the colon': 'GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n',
    'Content-Length and Transfer-Encoding together': 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'two different Content-Lengths': 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x',
    'a negative Content-Length': 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'a Content-Length past 64 bits': 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n',
    'a non-numeric Content-Length': 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n',
    'a chunk size that is not hex': 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
    'a TLS ClientHello': Buffer.from([0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0, 0x0d, 0x0a, 0x0d, 0x0a]),
    'an absolute-form target': 'GET http://x/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    'an asterisk target': 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    'a bad percent-escape': 'GET /api/books/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  };
  const results = await Promise.all(
    Object.entries(cases).map(async ([what, bytes]) => [what, await rawRequest(node.port, bytes, { ms: 4000 })]),
  );
  for (const [what, { data, timedOut }] of results) {
    assert.equal(timedOut, false, `${what}: the server closes the connection (got ${JSON.stringify(data.slice(0, 200))})`);
    assertRawError(data, 400, 'bad_request', what);
  }
  for (const [what, bytes] of [
    ['an unknown method', 'FOO /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['a lower-case method', 'get /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['DELETE on a read-only path', 'DELETE /api/books/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ]) {
    const { data, timedOut } = await rawRequest(node.port, bytes, { ms: 4000 });
    assert.equal(timedOut, false, what);
    assertRawError(data, 405, 'method_not_allowed', what);
  }
  const { data } = await rawRequest(node.port, 'FOO /no/such/path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assertRawError(data, 404, 'not_found', 'an unknown method on an unknown path');
  await assertServing(node);
});

test('the live paths answer by the one route table: a plain GET /ws is 426, unknown query parameters on /ws, /sse and /api/publish are 400, HEAD /sse is 405', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'biroutes' });
  const handshake = (target) =>
    `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  const closing = (line) => `${line} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
  const cases = [
    ['a GET /ws without a handshake', closing('GET /ws'), 426, 'upgrade_required'],
    ['a handshake with a parameter /ws does not take', handshake('/ws?junk=1'), 400, 'bad_request'],
    ['a handshake with access_token twice', handshake('/ws?access_token=a&access_token=b'), 400, 'bad_request'],
    ['a stream with a parameter /sse does not take', closing('GET /sse?channels=books:1&junk=1'), 400, 'bad_request'],
    ['HEAD /sse', closing('HEAD /sse?channels=books:1'), 405, 'method_not_allowed'],
    ['a publish with a query parameter', `POST /api/publish?junk=1 HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`, 400, 'bad_request'],
  ];
  for (const [what, bytes, status, code] of cases) {
    const { data, timedOut } = await rawRequest(node.port, bytes, { ms: 4000 });
    assert.equal(timedOut, false, `${what}: answered and closed (got ${JSON.stringify(data.slice(0, 200))})`);
    if (what === 'HEAD /sse') {
      // A HEAD answer has no body to carry the error's code.
      assert.match(data, /^HTTP\/1\.1 405 /, what);
      continue;
    }
    assertRawError(data, status, code, what);
  }
  // The same handshake without the junk is a WebSocket.
  const { data } = await rawRequest(node.port, handshake('/ws'), { ms: 1000 });
  assert.match(data, /^HTTP\/1\.1 101 /, `a clean handshake is upgraded: ${JSON.stringify(data.slice(0, 200))}`);
  await assertServing(node);
});

test('a Transfer-Encoding the node cannot decode is 400 and ends the connection: what follows is never read as another request', async (t) => {
  // RFC 9112 §6.3: a request whose Transfer-Encoding does not end in
  // "chunked" has no determinable length — 400, then close. Reading it as
  // bodiless and the rest as the next request is how requests are smuggled
  // past a proxy that frames them differently.
  const [node] = await liveCluster(t, 1, {}, { name: 'bitecoding' });
  const smuggled = 'GET /api/books/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  for (const [method, coding] of [['POST', 'gzip'], ['POST', 'identity'], ['POST', 'chunked, gzip'], ['POST', 'chunked, chunked'], ['POST', 'xchunked'], ['POST', 'gzip, chunked'], ['GET', 'gzip']]) {
    const what = `${method} with Transfer-Encoding: ${coding}`;
    const { data, timedOut } = await rawRequest(
      node.port,
      `${method} /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ${coding}\r\n\r\n${smuggled}`,
      { ms: 4000 },
    );
    assert.equal(timedOut, false, `${what}: the server closes the connection`);
    const responses = httpResponses(data);
    assert.equal(responses.length, 1, `${what}: one answer, the bytes after the head are no request: ${JSON.stringify(data.slice(0, 600))}`);
    assertRawError(data, 400, 'bad_request', what);
  }
  await assertServing(node);
});

test('oversized headers and bodies get 413 too_large (before the body is read, when its length is declared) and store nothing', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'bisize' });
  const me = await register(node);
  const before = snapshot(node.prefix, [me.user.id]);
  const auth = `Authorization: Bearer ${me.token}\r\n`;
  // docs/operations.md: max_header_bytes (8192) — "413 above".
  for (const [what, req] of [
    ['one header over max_header_bytes', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(9000)}\r\n\r\n`],
    ['a thousand small headers', `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 1000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`],
    ['a request target over max_header_bytes', `GET /api/books?x=${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['a bearer token over max_header_bytes', `POST /api/books HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(9000)}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`],
  ]) {
    const { data, timedOut } = await rawRequest(node.port, req);
    assert.equal(timedOut, false, `${what}: closed`);
    assertRawError(data, 413, 'too_large', what);
  }

  // A declared length over max_body_bytes is refused from the head alone:
  // no "100 Continue", no waiting for ten megabytes.
  const conn = await rawConnection(node.port);
  await conn.write(
    `POST /api/books HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n`,
  );
  await conn.until((d) => latin1(d).includes('\r\n\r\n'), { what: 'an answer to the head' });
  assert.doesNotMatch(latin1(conn.data()), /^HTTP\/1\.1 100/, 'no 100 Continue for a body over the limit');
  await connectionClosed(conn);
  assertRawError(latin1(conn.data()), 413, 'too_large', 'Content-Length: 10000000 with Expect: 100-continue');

  const post = (body) => rawApi(node, 'POST', '/api/books', { token: me.token, headers: { 'Content-Type': 'application/json' }, body });
  assertError(await post('x'.repeat(65537)), 413, 'too_large', 'a body of max_body_bytes + 1');
  assertError(await post(`{"title":"${'t'.repeat(70000)}"}`), 413, 'too_large', 'a JSON body over the limit');
  assertError(await post('['.repeat(100000)), 413, 'too_large', '100000 [ (over the body limit)');
  // Exactly at the limit is read (and then refused for its content, naming the field).
  const atLimit = `{"title":"${'t'.repeat(65536 - 12)}"}`;
  assert.equal(Buffer.byteLength(atLimit), 65536);
  assertError(await post(atLimit), 400, 'bad_request', 'a body of exactly max_body_bytes', { field: 'title' });
  // Deep nesting within the size limit is malformed JSON for the node, not a stack overflow.
  for (const [what, body] of [
    ['60000 [', '['.repeat(60000)],
    ['60000 { "a":', '{"a":'.repeat(13000)],
    ['nested arrays in a field', `{"title":${'['.repeat(30000)}${']'.repeat(30000)}}`],
    ['17 levels of objects', `${'{"a":'.repeat(17)}1${'}'.repeat(17)}`],
  ])
    assertError(await post(body), 400, 'bad_request', what);
  assertUnchanged(before, node.prefix, [me.user.id], 'oversized and deeply nested requests');
  await assertServing(node);
});

test('JSON bodies with a wrong Content-Type are 400 and store nothing; the JSON media type is accepted in any letter case', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'bictype' });
  const me = await register(node);
  const before = snapshot(node.prefix, [me.user.id]);
  const json = JSON.stringify({ title: `typed ${stamp()}` });
  for (const [type, body] of [
    ['text/plain', json],
    ['text/plain;charset=UTF-8', json],
    ['text/json', json],
    ['application/x-www-form-urlencoded', 'title=form'],
    ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nform\r\n--x--\r\n`],
    ['application/jsonp', json],
    ['application/json-patch+json', json],
    ['application/xml', '<title>x</title>'],
    ['', json],
  ]) {
    const res = await rawApi(node, 'POST', '/api/books', { token: me.token, headers: { 'Content-Type': type }, body });
    assertError(res, 400, 'bad_request', `POST /api/books with Content-Type "${type}"`, { field: 'Content-Type' });
  }
  assertUnchanged(before, node.prefix, [me.user.id], 'bodies with a wrong Content-Type');

  // RFC 9110 §8.3.1: type and subtype are case-insensitive; parameters may follow.
  for (const type of ['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'application/json ; charset=utf-8', 'Application/JSON', 'APPLICATION/JSON; charset=utf-8']) {
    const title = `typed ${stamp()}`;
    const res = await rawApi(node, 'POST', '/api/books', { token: me.token, headers: { 'Content-Type': type }, body: JSON.stringify({ title }) });
    assert.equal(res.status, 201, `POST /api/books with Content-Type "${type}": ${res.status} ${res.text}`);
    assert.equal(res.body.title, title);
  }
  await assertServing(node);
});

test('invalid UTF-8 and malformed JSON are 400 bad_request and store nothing', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'biutf8' });
  const me = await register(node);
  const before = snapshot(node.prefix, [me.user.id]);
  const str = (bytes) => Buffer.concat([Buffer.from('{"display_name":"a'), Buffer.from(bytes), Buffer.from('b"}')]);
  const bodies = {
    'a 0xFF byte': str([0xff]),
    'a lone continuation byte': str([0x80]),
    'an overlong "/" (C0 AF)': str([0xc0, 0xaf]),
    'an overlong NUL (C0 80)': str([0xc0, 0x80]),
    'a UTF-8-encoded surrogate (ED A0 80)': str([0xed, 0xa0, 0x80]),
    'a code point past U+10FFFF (F4 90 80 80)': str([0xf4, 0x90, 0x80, 0x80]),
    'a truncated two-byte sequence': str([0xc3]),
    'a truncated four-byte sequence': str([0xf0, 0x9f, 0x98]),
    'Latin-1 é': str([0xe9]),
    'an escaped lone high surrogate': '{"display_name":"a\\ud800b"}',
    'an escaped lone low surrogate': '{"display_name":"a\\udc00b"}',
    'a reversed surrogate pair': '{"display_name":"\\ude00\\ud83d"}',
    'a bad escape': '{"display_name":"a\\xb"}',
    'a raw control character in a string': '{"display_name":"a\u0001b"}',
    'a raw newline in a string': '{"display_name":"a\nb"}',
    'an unterminated string': '{"display_name":"ab',
    'an empty body': '',
    'whitespace only': '  \r\n ',
    'null': 'null',
    'an array': '[{"display_name":"x"}]',
    'a string': '"display_name"',
    'a number': '42',
    'a byte-order mark first': '\ufeff{"display_name":"x"}',
    'a trailing comma': '{"display_name":"x",}',
    'single quotes': "{'display_name':'x'}",
    'an unquoted key': '{display_name:"x"}',
    'NaN': '{"display_name":"x","bio":NaN}',
    'Infinity': '{"display_name":"x","bio":Infinity}',
    'a comment': '{"display_name":"x" /* hi */}',
    'trailing garbage': '{"display_name":"x"}garbage',
    'two objects': '{"display_name":"x"}{"bio":"y"}',
    'a leading-zero number': '{"display_name":"x","n":01}',
    'a hex number': '{"display_name":"x","n":0x10}',
  };
  for (const [what, body] of Object.entries(bodies)) {
    const res = await rawApi(node, 'PATCH', '/api/users/me', { token: me.token, headers: { 'Content-Type': 'application/json' }, body });
    assertError(res, 400, 'bad_request', `PATCH /api/users/me with ${what}`);
  }
  // The same through a field that goes to another table.
  for (const bytes of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
    const body = Buffer.concat([Buffer.from('{"title":"x'), Buffer.from(bytes), Buffer.from('"}')]);
    assertError(await rawApi(node, 'POST', '/api/books', { token: me.token, headers: { 'Content-Type': 'application/json' }, body }), 400, 'bad_request', `POST /api/books with bytes ${bytes}`);
  }
  assertUnchanged(before, node.prefix, [me.user.id], 'invalid UTF-8 and malformed JSON');
  await assertServing(node);
});

test('huge, fractional, negative and wrong-typed numbers are 400 naming the field and move nothing; duplicate keys: the last one counts', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'binumbers' });
  const me = await register(node);
  const you = await register(node);
  sql(`UPDATE wallets SET coins = 5000 WHERE user_id = ${me.user.id}`);
  const users = [me.user.id, you.user.id];
  const before = snapshot(node.prefix, users);
  const gift = (coinsJson, to = you.user.id) =>
    rawApi(node, 'POST', '/api/gifts', {
      token: me.token,
      headers: { 'Content-Type': 'application/json' },
      body: `{"to_user_id":${to},"coins":${coinsJson}}`,
    });
  for (const coins of [
    '1e400', '-1e400', '1e308', '123456789012345678901234567890', '9223372036854775807', '9223372036854775808',
    '18446744073709551616', '-9223372036854775808', '-9223372036854775809', '1000001', '0', '-0', '-1', '1.5',
    '100.0', '1e2', '1E2', '1e-400', '0.0000001e7', '"5"', 'true', '[5]', '{"n":5}', 'null',
  ])
    assertError(await gift(coins), 400, 'bad_request', `a gift of ${coins} coins`, { field: 'coins' });
  for (const to of ['0', '-1', '9223372036854775808', '18446744073709551616', '1e3', '1.0', `"${you.user.id}"`, 'null', 'true', `[${you.user.id}]`])
    assertError(await gift('1', to), 400, 'bad_request', `a gift to ${to}`, { field: 'to_user_id' });
  for (const pkg of ['0', '-1', '9223372036854775808', '1e400', '1.0', '"1"', 'null', '{}']) {
    const res = await rawApi(node, 'POST', '/api/me/purchases', { token: me.token, headers: { 'Content-Type': 'application/json' }, body: `{"package_id":${pkg}}` });
    assertError(res, 400, 'bad_request', `a purchase of package ${pkg}`, { field: 'package_id' });
  }
  // Duplicate keys: the node reads the last one (as JSON.parse does) or refuses — never the first.
  assertError(await rawApi(node, 'POST', '/api/gifts', { token: me.token, headers: { 'Content-Type': 'application/json' }, body: `{"to_user_id":${you.user.id},"coins":5,"coins":-5}` }), 400, 'bad_request', 'coins 5 then -5');
  assertError(await rawApi(node, 'POST', '/api/gifts', { token: me.token, headers: { 'Content-Type': 'application/json' }, body: `{"to_user_id":${you.user.id},"coins":5,"to_user_id":0}` }), 400, 'bad_request', 'to_user_id valid then 0');
  assertUnchanged(before, node.prefix, users, 'bad numbers');

  const dup = await rawApi(node, 'POST', '/api/gifts', { token: me.token, headers: { 'Content-Type': 'application/json' }, body: `{"to_user_id":${you.user.id},"coins":-5,"coins":7}` });
  if (dup.status === 201) {
    assert.equal(dup.body.coins, 7, `duplicate "coins": the last value counts: ${dup.text}`);
    assert.equal(Number(sql(`SELECT coins FROM wallets WHERE user_id = ${you.user.id}`)), 7);
  } else assertError(dup, 400, 'bad_request', 'duplicate "coins" keys');
  const name = `dup_${stamp()}`.slice(0, 32);
  const reg = await rawApi(node, 'POST', '/api/auth/register', {
    headers: { 'Content-Type': 'application/json' },
    body: `{"username":"${name}","password":"password123","display_name":"first","display_name":"second"}`,
  });
  if (reg.status === 201) {
    assert.equal(reg.body.user.display_name, 'second', 'duplicate "display_name": the last value counts');
    assert.equal(sql(`SELECT display_name FROM users WHERE username = '${name}'`), 'second');
  } else assertError(reg, 400, 'bad_request', 'duplicate "display_name" keys');
  await assertServing(node);
});

test('ids out of range in paths, queries and bodies are 400; well-formed unknown ids 404; nothing is stored', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'biids' });
  const me = await register(node);
  const book = await newBook(node, me.token);
  const chapter = await newChapter(node, me.token, book.id);
  const before = snapshot(node.prefix, [me.user.id]);
  const BAD = ['0', '-1', '9223372036854775808', '99999999999999999999', '1e3', 'abc', '01', '1.0', '+1', '%20', '1%00', '0x10',
    '%EF%BC%91' /* fullwidth 1 */, '1%2F2', "1'%20OR%20'1'='1", '1;DROP%20TABLE%20books'];
  const reads = ['/api/books/:id', '/api/chapters/:id', '/api/users/:id', '/api/books/:id/chapters', '/api/chapters/:id/comments', '/api/presence/users/:id'];
  const writes = [
    ['PATCH', '/api/books/:id', { title: 'x' }],
    ['POST', '/api/books/:id/chapters', { title: 'x', body: 'y' }],
    ['PATCH', '/api/chapters/:id', { title: 'x' }],
    ['POST', '/api/chapters/:id/comments', { body: 'x' }],
    ['POST', '/api/books/:id/follow', undefined],
    ['DELETE', '/api/books/:id/follow', undefined],
    ['POST', '/api/me/notifications/:id/read', undefined],
  ];
  for (const id of BAD) {
    for (const path of reads) {
      const p = path.replace(':id', id);
      assertError(await api(node, 'GET', p), 400, 'bad_request', `GET ${p}`, { field: 'id' });
    }
    for (const [method, path, body] of writes) {
      const p = path.replace(':id', id);
      assertError(await api(node, method, p, { token: me.token, body }), 400, 'bad_request', `${method} ${p}`, { field: 'id' });
    }
    for (const [path, name] of [['/api/books?after=', 'after'], ['/api/chapters/1/comments?before=', 'before']])
      assertError(await api(node, 'GET', path + id), 400, 'bad_request', `GET ${path}${id}`, { field: name });
  }
  for (const limit of ['0', '-1', '101', '1e1', 'abc', '', '9223372036854775808', '5.5'])
    for (const path of ['/api/books?limit=', `/api/chapters/${chapter.id}/comments?limit=`, '/api/me/notifications?limit='])
      assertError(await api(node, 'GET', path + limit, { token: me.token }), 400, 'bad_request', `GET ${path}${limit}`, { field: 'limit' });

  // The largest id is well-formed: unknown, not malformed.
  const MAX = '9223372036854775807';
  for (const path of ['/api/books/:id', '/api/chapters/:id', '/api/users/:id', '/api/books/:id/chapters', '/api/chapters/:id/comments'])
    assertError(await api(node, 'GET', path.replace(':id', MAX)), 404, 'not_found', `GET ${path.replace(':id', MAX)}`);
  const presence = await api(node, 'GET', `/api/presence/users/${MAX}`);
  assert.equal(presence.status, 200, presence.text);
  assert.equal(presence.body.online, false, 'an unknown user is simply never online');
  for (const [method, path, body] of writes) {
    const p = path.replace(':id', MAX);
    assertError(await api(node, method, p, { token: me.token, body }), 404, 'not_found', `${method} ${p}`);
  }
  const json = { 'Content-Type': 'application/json' };
  assertError(await rawApi(node, 'POST', '/api/gifts', { token: me.token, headers: json, body: `{"to_user_id":${MAX},"coins":1}` }), 404, 'not_found', 'a gift to the largest id');
  assertError(await rawApi(node, 'POST', '/api/me/purchases', { token: me.token, headers: json, body: `{"package_id":${MAX}}` }), 404, 'not_found', 'the largest package id');
  assertUnchanged(before, node.prefix, [me.user.id], 'out-of-range and unknown ids');
  await assertServing(node);
});

test('coin amounts that would overflow a balance are refused with a 4xx, not 503, and move nothing', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'bioverflow' });
  const me = await register(node);
  const rich = await register(node);
  sql(`UPDATE wallets SET coins = 1000 WHERE user_id = ${me.user.id}`);
  sql(`UPDATE wallets SET coins = 9223372036854775800 WHERE user_id = ${rich.user.id}`);
  const users = [me.user.id, rich.user.id];
  const before = snapshot(node.prefix, users);
  const refusedNot503 = (res, what) => {
    assert.ok(res.status >= 400 && res.status < 500, `${what}: a client error, not ${res.status} ${res.text}`);
    assertError(res, res.status, undefined, what);
  };
  refusedNot503(await api(node, 'POST', '/api/gifts', { token: me.token, body: { to_user_id: rich.user.id, coins: 100 } }), 'a gift that would take the recipient past 2^63-1 coins');
  refusedNot503(await api(node, 'POST', '/api/me/purchases', { token: rich.token, body: { package_id: coinPackage().id } }), 'a purchase that would take the balance past 2^63-1 coins');
  assertUnchanged(before, node.prefix, users, 'overflowing coin amounts');
  assert.deepEqual(node.logs.match(/ error .*out of range.*/g) ?? [], [], 'bad input is not logged as an error');
});

test('a gift larger than the balance is 422 insufficient_funds and moves nothing', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'bifunds' });
  const me = await register(node);
  const you = await register(node);
  sql(`UPDATE wallets SET coins = 999999 WHERE user_id = ${me.user.id}`);
  const users = [me.user.id, you.user.id];
  const before = snapshot(node.prefix, users);
  assertError(await api(node, 'POST', '/api/gifts', { token: me.token, body: { to_user_id: you.user.id, coins: 1000000 } }), 422, 'insufficient_funds', 'one coin more than the balance');
  assertError(await api(node, 'POST', '/api/gifts', { token: you.token, body: { to_user_id: me.user.id, coins: 1 } }), 422, 'insufficient_funds', 'a gift from an empty wallet');
  assertError(await api(node, 'POST', '/api/gifts', { token: me.token, body: { to_user_id: me.user.id, coins: 1 } }), 400, 'bad_request', 'a gift to yourself');
  assertUnchanged(before, node.prefix, users, 'refused gifts');
});

// Strings that break naively built SQL (and a few other interpreters).
const EVIL = [
  "'; DROP TABLE users; --",
  "Robert'); DROP TABLE books;--",
  '" OR "1"="1',
  "' OR '1'='1' /*",
  "1; SELECT pg_sleep(5); --",
  '$$; DELETE FROM wallets; $$',
  '$tag$ x $tag$',
  "E'\\x00' \\x00 \\0 %00 \\u0000",
  '%_\\%',
  "'||(SELECT password_hash FROM users LIMIT 1)||'",
  "\\'; --",
  "'",
  '"',
  '\\',
  '::text; COMMIT; --',
  "ünïcødé 😀 עברית \u202e \u200b \u2028\u2029 e\u0301 \u{10FFFF}",
  '<script>alert(1)</script>',
  '{"json":[1,2]} ${x} `id`',
  'tab\there\r\nnewline\nend ',
  '  leading and trailing spaces  ',
];
const cut = (s, n) => [...s].slice(0, n).join('');

test('SQL metacharacters in every text field are stored and returned verbatim', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'bisql' });
  const owner = await register(node);
  const book = await newBook(node, owner.token);
  const chapter = await newChapter(node, owner.token, book.id);
  const tablesBefore = sql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'");
  for (const [i, s] of EVIL.entries()) {
    const what = `string ${i} ${JSON.stringify(s)}`;
    // register: password and display_name; then login with the very password
    const username = `sq_${stamp()}`.slice(0, 32);
    const password = s.padEnd(8, '#');
    const reg = await api(node, 'POST', '/api/auth/register', { body: { username, password, display_name: cut(s, 64) } });
    assert.equal(reg.status, 201, `${what}: register: ${reg.text}`);
    assert.equal(reg.body.user.display_name, cut(s, 64), `${what}: display_name as sent`);
    const login = await api(node, 'POST', '/api/auth/login', { body: { username, password } });
    assert.equal(login.status, 200, `${what}: login with the same password: ${login.text}`);
    assertError(await api(node, 'POST', '/api/auth/login', { body: { username, password: password + 'x' } }), 401, 'unauthorized', `${what}: another password`);
    assertError(await api(node, 'POST', '/api/auth/login', { body: { username: s.slice(0, 64) || 'x', password } }), 401, 'unauthorized', `${what}: as a username`);
    const id = reg.body.user.id;
    const token = reg.body.token;

    const me = await api(node, 'PATCH', '/api/users/me', { token, body: { display_name: cut(s, 64), bio: s } });
    assert.equal(me.status, 200, `${what}: PATCH /api/users/me: ${me.text}`);
    assert.equal(sql(`SELECT md5(display_name) || md5(bio) FROM users WHERE id = ${id}`), md5(cut(s, 64)) + md5(s), `${what}: users row`);
    const user = await api(node, 'GET', `/api/users/${id}`);
    assert.deepEqual([user.body.display_name, user.body.bio], [cut(s, 64), s], `${what}: GET /api/users/:id`);

    const created = await api(node, 'POST', '/api/books', { token, body: { title: s, description: s } });
    assert.equal(created.status, 201, `${what}: POST /api/books: ${created.text}`);
    const patched = await api(node, 'PATCH', `/api/books/${created.body.id}`, { token, body: { title: `${s}!`, description: `!${s}` } });
    assert.equal(patched.status, 200, `${what}: PATCH /api/books/:id: ${patched.text}`);
    assert.equal(sql(`SELECT md5(title) || md5(description) FROM books WHERE id = ${created.body.id}`), md5(`${s}!`) + md5(`!${s}`), `${what}: books row`);
    const got = await api(node, 'GET', `/api/books/${created.body.id}`);
    assert.deepEqual([got.body.title, got.body.description], [`${s}!`, `!${s}`], `${what}: GET /api/books/:id`);

    const ch = await api(node, 'POST', `/api/books/${created.body.id}/chapters`, { token, body: { title: s, body: s } });
    assert.equal(ch.status, 201, `${what}: POST chapter: ${ch.text}`);
    const chPatched = await api(node, 'PATCH', `/api/chapters/${ch.body.id}`, { token, body: { title: `${s}?`, body: `?${s}` } });
    assert.equal(chPatched.status, 200, `${what}: PATCH chapter: ${chPatched.text}`);
    assert.equal(sql(`SELECT md5(title) || md5(body) FROM chapters WHERE id = ${ch.body.id}`), md5(`${s}?`) + md5(`?${s}`), `${what}: chapters row`);
    const chGot = await api(node, 'GET', `/api/chapters/${ch.body.id}`);
    assert.deepEqual([chGot.body.title, chGot.body.body], [`${s}?`, `?${s}`], `${what}: GET /api/chapters/:id`);

    const comment = await api(node, 'POST', `/api/chapters/${chapter.id}/comments`, { token, body: { body: s } });
    assert.equal(comment.status, 201, `${what}: POST comment: ${comment.text}`);
    assert.equal(sql(`SELECT md5(body) FROM comments WHERE id = ${comment.body.id}`), md5(s), `${what}: comments row`);
    assert.equal(comment.body.body, s);
  }
  const list = await api(node, 'GET', `/api/chapters/${chapter.id}/comments?limit=100`);
  assert.deepEqual(list.body.items.map((c) => c.body).reverse(), EVIL, 'every comment, verbatim, in order');
  assert.equal(sql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"), tablesBefore, 'no table was dropped or added');
  await assertServing(node);
});

test('SQL metacharacters in the Idempotency-Key are kept verbatim and replay the gift', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'bisqlkey' });
  const me = await register(node);
  const you = await register(node);
  sql(`UPDATE wallets SET coins = 1000 WHERE user_id = ${me.user.id}`);
  const keys = ["'; DROP TABLE gifts; --", '" OR 1=1 --', '$$;$tag$', '%_\\', "k'||'", 'tab\tin key'];
  for (const key of keys) {
    const first = await api(node, 'POST', '/api/gifts', { token: me.token, body: { to_user_id: you.user.id, coins: 1 }, headers: { 'Idempotency-Key': key } });
    assert.equal(first.status, 201, `key ${JSON.stringify(key)}: ${first.text}`);
    assert.equal(sql(`SELECT md5(idempotency_key) FROM gifts WHERE id = ${first.body.id}`), md5(key), `key ${JSON.stringify(key)} stored verbatim`);
    const again = await api(node, 'POST', '/api/gifts', { token: me.token, body: { to_user_id: you.user.id, coins: 1 }, headers: { 'Idempotency-Key': key } });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true', `key ${JSON.stringify(key)}: replayed`);
    assert.equal(again.body.id, first.body.id);
  }
  assert.equal(Number(sql(`SELECT coins FROM wallets WHERE user_id = ${you.user.id}`)), keys.length, 'one coin per key');
});

test('text fields out of their limits, or holding NUL, are 400 naming the field and store nothing', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'bilimits' });
  const me = await register(node);
  const book = await newBook(node, me.token);
  const chapter = await newChapter(node, me.token, book.id);
  const before = snapshot(node.prefix, [me.user.id]);
  const NUL = 'a\u0000b';
  const cases = [
    ['PATCH', '/api/users/me', 'display_name', ['', 'x'.repeat(65), NUL, 5, true, ['x'], { a: 1 }]],
    ['PATCH', '/api/users/me', 'bio', ['x'.repeat(1001), NUL, 5, ['x']]],
    ['POST', '/api/books', 'title', ['', 'x'.repeat(201), '😀'.repeat(201), NUL, 5, null]],
    ['POST', '/api/books', 'description', ['x'.repeat(5001), NUL, 5], { title: 'ok' }],
    ['POST', '/api/books', 'published', ['yes', 1, 'true'], { title: 'ok' }],
    ['PATCH', `/api/books/${book.id}`, 'title', ['', 'x'.repeat(201), NUL, 5]],
    ['POST', `/api/books/${book.id}/chapters`, 'title', ['', 'x'.repeat(201), NUL, 5, null], { body: 'ok' }],
    ['POST', `/api/books/${book.id}/chapters`, 'body', ['', NUL, 5, null], { title: 'ok' }],
    ['PATCH', `/api/chapters/${chapter.id}`, 'body', ['', NUL, 5]],
    ['POST', `/api/chapters/${chapter.id}/comments`, 'body', ['', 'x'.repeat(4001), '😀'.repeat(4001), NUL, 5, null, ['x']]],
  ];
  for (const [method, path, field, values, rest = {}] of cases)
    for (const value of values) {
      const res = await api(node, method, path, { token: me.token, body: { ...rest, [field]: value } });
      assertError(res, 400, 'bad_request', `${method} ${path} with ${field} = ${JSON.stringify(value).slice(0, 40)}`, { field });
    }
  // At the limits, counted in code points, is fine (and checked below as a change).
  const name = `lim_${stamp()}`.slice(0, 32);
  for (const [body, field] of [
    [{ username: 'ab', password: 'password123' }, 'username'],
    [{ username: 'x'.repeat(33), password: 'password123' }, 'username'],
    [{ username: "x'; --", password: 'password123' }, 'username'],
    [{ username: 'Upper', password: 'password123' }, 'username'],
    [{ username: 'ünï', password: 'password123' }, 'username'],
    [{ username: 'abc\u0000', password: 'password123' }, 'username'],
    [{ username: name, password: 'short7!' }, 'password'],
    [{ username: name, password: 'p'.repeat(129) }, 'password'],
    [{ username: name, password: `pass${NUL}word` }, 'password'],
    [{ username: name, password: 'password123', display_name: 'x'.repeat(65) }, 'display_name'],
    [{ username: name, password: 12345678 }, 'password'],
    [{ password: 'password123' }, 'username'],
  ])
    assertError(await api(node, 'POST', '/api/auth/register', { body }), 400, 'bad_request', `register ${JSON.stringify(body).slice(0, 80)}`, { field });
  assert.equal(sql(`SELECT count(*) FROM users WHERE username IN ('${name}', 'ab', 'upper', '${'x'.repeat(33)}')`), '0', 'no account was made');
  assertUnchanged(before, node.prefix, [me.user.id], 'fields out of their limits');
  const ok = await api(node, 'POST', `/api/chapters/${chapter.id}/comments`, { token: me.token, body: { body: '😀'.repeat(4000) } });
  assert.equal(ok.status, 201, `4000 emoji are 4000 characters: ${ok.text.slice(0, 200)}`);
  await assertServing(node);
});

test('header values that are not UTF-8 (Idempotency-Key) are 400, not 503, and move nothing', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'bikeyutf8' });
  const me = await register(node);
  const you = await register(node);
  sql(`UPDATE wallets SET coins = 100 WHERE user_id = ${me.user.id}`);
  const users = [me.user.id, you.user.id];
  const before = snapshot(node.prefix, users);
  const body = JSON.stringify({ to_user_id: you.user.id, coins: 1 });
  for (const [what, key] of [
    ['a 0xFF byte', [0x6b, 0xff]],
    ['Latin-1 é', [0x6b, 0xe9]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a truncated sequence', [0x6b, 0xe2, 0x82]],
  ]) {
    const req = Buffer.concat([
      Buffer.from(`POST /api/gifts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${me.token}\r\nContent-Type: application/json\r\nIdempotency-Key: `),
      Buffer.from(key),
      Buffer.from(`\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`),
    ]);
    const { data } = await rawRequest(node.port, req);
    assertRawError(data, 400, 'bad_request', `an Idempotency-Key with ${what}`);
  }
  assertUnchanged(before, node.prefix, users, 'non-UTF-8 Idempotency-Keys');
  assert.deepEqual(node.logs.match(/ error .*/g) ?? [], [], 'bad input is not logged as an error');
  await assertServing(node);
});

test('error bodies stay valid UTF-8 JSON when they echo input that is not', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'biecho' });
  const me = await register(node);
  for (const path of ['/api/channels/%FF/presence', '/api/channels/books:%C0%AF/presence', '/sse?channels=%FF', '/sse?channels=books:1,%ED%A0%80']) {
    const { data } = await rawRequest(node.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${me.token}\r\nConnection: close\r\n\r\n`);
    const [res] = httpResponses(data);
    assert.equal(res?.status, 400, `GET ${path}: ${JSON.stringify(data.slice(0, 300))}`);
    const bytes = Buffer.from(res.body, 'latin1');
    let text;
    assert.doesNotThrow(() => (text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)), `GET ${path}: the body is valid UTF-8: ${JSON.stringify(res.body)}`);
    const parsed = JSON.parse(text);
    assert.equal(typeof parsed.error?.code, 'string', `GET ${path}: ${text}`);
  }
  await assertServing(node);
});

test("writes to other users' books, chapters and notifications are refused and change nothing", async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'biothers' });
  const owner = await register(node);
  const intruder = await register(node);
  const book = await newBook(node, owner.token);
  const chapter = await newChapter(node, owner.token, book.id);
  // a notification of the owner's: a gift from the intruder
  sql(`UPDATE wallets SET coins = 10 WHERE user_id = ${intruder.user.id}`);
  const gift = await api(node, 'POST', '/api/gifts', { token: intruder.token, body: { to_user_id: owner.user.id, coins: 1 } });
  assert.equal(gift.status, 201, gift.text);
  const notification = Number(sql(`SELECT max(id) FROM notifications WHERE user_id = ${owner.user.id}`));
  const users = [owner.user.id, intruder.user.id];
  const before = snapshot(node.prefix, users);
  assertError(await api(node, 'PATCH', `/api/books/${book.id}`, { token: intruder.token, body: { title: 'mine now' } }), 403, 'forbidden', "PATCH another's book");
  assertError(await api(node, 'POST', `/api/books/${book.id}/chapters`, { token: intruder.token, body: { title: 'x', body: 'y' } }), 403, 'forbidden', "a chapter in another's book");
  assertError(await api(node, 'PATCH', `/api/chapters/${chapter.id}`, { token: intruder.token, body: { body: 'defaced' } }), 403, 'forbidden', "PATCH another's chapter");
  assertError(await api(node, 'POST', `/api/me/notifications/${notification}/read`, { token: intruder.token }), 404, 'not_found', "reading another's notification");
  assertUnchanged(before, node.prefix, users, "writes to others' things");
  await assertServing(node);
});
