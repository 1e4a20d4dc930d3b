// cluster — the local cluster of scripts/cluster (three nodes behind Debian's
// nginx, with the balancer config the deployment uses) for failure drills,
// on a private Redis and PostgreSQL the test file owns and may take down;
// and `follow`, a live client that does what a real one does when it is cut
// off: reconnect through the balancer and resume from the last offset seen.
// Owns: the scripts/cluster process it spawns (which owns nginx and the
// nodes), its folder (logs, pid files, the rendered nginx config), and the
// followers' sockets.
// Never: kills anything but the script it spawned and, only if that script
// cannot stop them itself, the pids the script wrote (checked to be an nginx
// or a switchboard node first); sleeps blindly (every wait is for a condition
// with a deadline).
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { API_KEY, ADMIN_KEY, waitFor, onCleanup } from './harness.mjs';
import { freePort, spawnLogged } from './servers.mjs';
import { openWs, subscribe, pushOn } from './live.mjs';

const source = process.env.SB_SOURCE_DIR;
if (!source) throw new Error('SB_SOURCE_DIR is not set (the repository root: scripts/cluster lives there)');

/** Whether nothing listens on `port` (any address) right now. */
function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

/** A base port with base..base+3 free a moment ago (nginx and three nodes). */
async function freeBase() {
  for (let i = 0; i < 50; i++) {
    const base = await freePort();
    if (base + 3 > 65535) continue;
    const free = await Promise.all([0, 1, 2, 3].map((d) => portFree(base + d)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no four consecutive free ports found');
}

const alive = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};
const cmdline = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

const running = new Set(); // clusters whose script has not exited
process.on('exit', () => {
  // The test process is ending without the cleanup (a crash, a signal): ask
  // each script to stop what it started. A held (SIGSTOPped) script gets
  // SIGTERM only once continued: send both.
  for (const c of running) {
    try {
      c.child.kill('SIGTERM');
      c.child.kill('SIGCONT');
    } catch {
      /* gone */
    }
  }
});

/**
 * Runs scripts/cluster with SB_BINARY on `redisUrl` / `databaseUrl` (it starts
 * no servers of its own then), the harness's API and admin keys, and `env`
 * (SB_* settings for the nodes); resolves once its `ready` file exists.
 * Resolves with {url, port (nginx), nodes: [{name, port, url}] (node1..3),
 * dir, logs (the script's output), nodeLog(i), pid(i) (node i's pid, from
 * node<i>.pid), exited (a promise of {code, signal}), hold() / release()
 * (SIGSTOP / SIGCONT the script: while held it does not notice a node
 * killed by a drill, so it does not stop the rest), stop() (SIGTERM; resolves
 * with {code, signal})}. The stop is also registered with onCleanup, so it
 * runs before the private servers the file started earlier are stopped.
 */
export async function startScriptCluster({ redisUrl, databaseUrl, env = {} }) {
  const binary = process.env.SB_BINARY;
  for (let attempt = 1; ; attempt++) {
    const base = await freeBase();
    const dir = mkdtempSync(join(tmpdir(), 'sb-cluster-'));
    const proc = spawnLogged(join(source, 'scripts/cluster'), [], {
      cwd: source,
      env: {
        ...process.env,
        SB_BINARY: binary,
        SB_HTTP_PORT: String(base),
        SB_REDIS_URL: redisUrl,
        // The cache shares the cluster's own Redis: the suite's cache Redis
        // outlives the run, and its keys (default prefix, the same ids in a
        // fresh database every run) would be warm on a second pass.
        SB_REDIS_CACHE_URL: redisUrl,
        SB_DATABASE_URL: databaseUrl,
        SB_API_KEY: API_KEY,
        SB_ADMIN_KEY: ADMIN_KEY,
        SB_SKIP_SEED: '1',
        SB_CLUSTER_DIR: dir,
        ...env,
      },
      detached: false,
    });
    const { child, exited } = proc;
    const done = () => child.exitCode !== null || child.signalCode !== null;
    const cluster = {
      child,
      exited,
      dir,
      port: base,
      url: `http://127.0.0.1:${base}`,
      nodes: [1, 2, 3].map((i) => ({ name: `node${i}`, port: base + i, url: `http://127.0.0.1:${base + i}` })),
      get logs() { return proc.logs; },
      get running() { return !done(); },
      held: false,
      nodeLog(i) {
        try {
          return readFileSync(join(dir, `node${i}.log`), 'utf8');
        } catch {
          return '';
        }
      },
      /** The tails of the script's output and of every node's log, for failure messages. */
      tails(n = 3000) {
        return (
          `--- scripts/cluster ---\n${proc.logs.slice(-n)}\n` +
          [1, 2, 3].map((i) => `--- node${i}.log ---\n${cluster.nodeLog(i).slice(-n)}`).join('\n')
        );
      },
      pid(i) {
        return Number(readFileSync(join(dir, `node${i}.pid`), 'utf8').trim());
      },
      hold() {
        if (done()) throw new Error(`scripts/cluster has exited (${child.exitCode ?? child.signalCode}):\n${cluster.tails()}`);
        child.kill('SIGSTOP');
        cluster.held = true;
      },
      release() {
        if (!done()) child.kill('SIGCONT');
        cluster.held = false;
      },
      async stop({ ms = 60000 } = {}) {
        if (!done()) {
          child.kill('SIGTERM');
          if (cluster.held) cluster.release();
        }
        let timer;
        const late = new Promise((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
        const result = await Promise.race([exited, late]);
        clearTimeout(timer);
        if (result === 'late') {
          // The script did not stop its processes: stop them by their pids
          // (only if they still are what the script started), then it.
          for (const name of ['node1', 'node2', 'node3', 'nginx']) {
            const file = join(dir, `${name}.pid`);
            if (!existsSync(file)) continue;
            const pid = Number(readFileSync(file, 'utf8').trim());
            const what = cmdline(pid);
            if (alive(pid) && (what.includes(binary) || what.includes('nginx'))) process.kill(pid, 'SIGKILL');
          }
          child.kill('SIGKILL');
          await exited;
          throw new Error(`scripts/cluster did not exit within ${ms} ms of SIGTERM:\n${cluster.tails()}`);
        }
        return result;
      },
    };
    running.add(cluster);
    exited.then(() => running.delete(cluster));
    const unregister = onCleanup(async () => {
      if (cluster.running) await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    try {
      await waitFor(
        () => {
          if (done()) throw new Error(`scripts/cluster exited (${child.exitCode ?? child.signalCode}) before it was ready`);
          return existsSync(join(dir, 'ready'));
        },
        { ms: 90000, every: 50, what: 'scripts/cluster to write its ready file' },
      );
      return cluster;
    } catch (e) {
      await cluster.stop().catch(() => {});
      unregister();
      rmSync(dir, { recursive: true, force: true });
      // Another process may have taken one of the ports meanwhile.
      if (attempt < 3 && /port \d+ is in use/.test(proc.logs)) continue;
      throw new Error(`${e.message}\n${cluster.tails()}`);
    }
  }
}

/**
 * A live client of `channel` through `balancer` ({url}) that behaves like a
 * real one: subscribes (with `token`, if given), and whenever its socket
 * closes — not closed by stop() — reconnects through the balancer and
 * subscribes again with `since` = the offset of the last push it received
 * (or, before any push, the offset its subscribe reply gave), retrying
 * while the balancer refuses or fails for up to `ms`. With `reconnectWhen`
 * (a function, may be async) it reconnects only once that returns true — a
 * real client's backoff, as a condition: the drill decides what it misses.
 * Resolves, once first subscribed, with {pushes (every push on the channel,
 * in arrival order, across connections), sessions ([{since, reply,
 * closeInfo}], one per connection), failure (set when a reconnect gave up or
 * a subscribe was refused), idle() (resolves once no reconnect is running),
 * stop()}.
 */
export async function follow(balancer, channel, { token, ms = 20000, reconnectWhen } = {}) {
  const f = { channel, pushes: [], sessions: [], failure: null, stopped: false, ws: null, reconnecting: null, attempts: [] };
  const lastOffset = () => (f.pushes.length ? f.pushes.at(-1).offset : f.sessions.at(-1)?.reply?.offset);

  async function connect(since) {
    await waitFor(
      async () => {
        if (f.stopped) return true;
        let ws;
        try {
          ws = await openWs(balancer, token === undefined ? {} : { token });
        } catch (e) {
          f.attempts.push(e.message); // e.g. 502 while nginx finds a live node
          return false;
        }
        const session = { since, reply: null, closeInfo: null };
        ws.on('message', (data, isBinary) => {
          if (isBinary) return;
          let frame;
          try {
            frame = JSON.parse(data.toString('utf8'));
          } catch {
            return;
          }
          if (pushOn(channel)(frame)) f.pushes.push(frame);
        });
        try {
          session.reply = await subscribe(ws, channel, since);
        } catch (e) {
          if (ws.closeInfo) {
            f.attempts.push(e.message.split('\n')[0]); // cut off before the reply: try again
            return false;
          }
          ws.terminate();
          throw e; // a refusal is an answer, not an outage
        }
        f.sessions.push(session);
        f.ws = ws;
        ws.closedPromise.then((info) => {
          session.closeInfo = info;
          if (f.stopped || f.ws !== ws) return;
          const resumeFrom = lastOffset();
          const when = reconnectWhen
            ? waitFor(async () => f.stopped || (await reconnectWhen()), { ms, what: 'the condition to reconnect' })
            : Promise.resolve();
          const again = when
            .then(() => connect(resumeFrom))
            .catch((e) => {
              f.failure = e;
            })
            .finally(() => {
              if (f.reconnecting === again) f.reconnecting = null;
            });
          f.reconnecting = again;
        });
        return true;
      },
      { ms, every: 25, what: `a connection through the balancer subscribed to ${channel}` },
    );
  }

  f.idle = async () => {
    while (f.reconnecting) await f.reconnecting;
  };
  f.stop = async () => {
    f.stopped = true;
    await f.idle();
    if (f.ws && !f.ws.closeInfo) {
      f.ws.terminate();
      await f.ws.closedPromise;
    }
  };
  await connect(undefined);
  return f;
}
