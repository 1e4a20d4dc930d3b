// machine — what the report says about the machine and the software versions.
// Owns: reading /proc and asking each tool its version. Never fails: a tool
// that is missing or answers oddly is reported as such.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { run } from './proc.mjs';

async function version(cmd, args, re = /.*/) {
  try {
    const r = await run(cmd, args, { name: cmd });
    const text = `${r.out}\n${r.err}`.trim();
    const m = text.match(re);
    return m ? (m[1] ?? m[0]).trim() : text.split('\n')[0];
  } catch { return 'missing'; }
}

function dpkgVersion(pkg) {
  return version('dpkg-query', ['-W', '-f=${Version}', pkg]).then((v) => (v && !/no packages/i.test(v) ? v : 'missing'));
}

export async function machineInfo({ root, databaseUrl, redisUrl }) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = (cpuinfo.match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? 'unknown';
  const mem = readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+) kB/);
  const [rev, dirty, nproc, nginx, nchan, redis, pg, varnish, wrk, gnuplot, socketio, ws] = await Promise.all([
    version('git', ['-C', root, 'rev-parse', '--short=12', 'HEAD']),
    version('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']),
    version('nproc', ['--all']), // --all: the bench shell itself is pinned to one CPU
    version('nginx', ['-v'], /nginx\/(\S+)/),
    dpkgVersion('libnginx-mod-nchan'),
    version('redis-server', ['--version'], /v=(\S+)/),
    databaseUrl ? version('psql', [databaseUrl, '-X', '-tAc', 'show server_version']) : 'unknown',
    version('varnishd', ['-V'], /(varnish-\S+)/),
    version('wrk', ['-v'], /wrk (\S+)/),
    version('gnuplot', ['--version']),
    version(process.execPath, ['-p', `require('${root}/bench/peers/node_modules/socket.io/package.json').version`]),
    version(process.execPath, ['-p', `require('${root}/bench/peers/node_modules/ws/package.json').version`]),
  ]);
  return {
    hostname: os.hostname(),
    nproc: Number(nproc) || os.cpus().length,
    cpu_model: model,
    kernel: `${os.type()} ${os.release()}`,
    ram_bytes: mem ? Number(mem[1]) * 1024 : os.totalmem(),
    versions: {
      switchboard: `${rev}${dirty ? ' (with uncommitted changes)' : ''}`,
      node: process.version,
      nginx, nchan, redis, postgres: pg, varnish, wrk, gnuplot,
      'socket.io': socketio, ws,
    },
    redis_url: redisUrl, database_url: databaseUrl,
  };
}
