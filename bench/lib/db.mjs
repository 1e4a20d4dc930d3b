// db — the few PostgreSQL and Redis operations the read workloads need, via
// psql and redis-cli on the throwaway servers bench/run started.
// Owns: the 50 ms query (books swapped for a view that sleeps, and back),
// counting book-by-id executions with pg_stat_statements, flushing Redis.
// Must never: run against a database other than $SB_DATABASE_URL (the
// throwaway one), or leave the view in place when the stage ends normally.
import { run } from './proc.mjs';

export async function psql(url, sql) {
  const res = await run('psql', [url, '-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' }, name: 'psql',
  });
  if (res.code !== 0) throw new Error(`psql failed (${sql.slice(0, 80)}): ${res.err.trim()}`);
  return res.out.trim();
}

export async function redisCli(url, ...args) {
  const res = await run('redis-cli', ['-u', url, ...args], { name: 'redis-cli' });
  if (res.code !== 0) throw new Error(`redis-cli ${args.join(' ')} failed: ${res.err.trim()}`);
  return res.out.trim();
}

export const flushRedis = (url) => redisCli(url, 'FLUSHALL');

/** Is books a view (the slow-query swap in place)? */
export async function slowQueryOn(url) {
  return (await psql(url, "select relkind from pg_class where relname = 'books' and relnamespace = 'public'::regnamespace")) === 'v';
}

/** Every read of books now takes 50 ms: books becomes a view over books_base that sleeps. */
export async function slowQuery(url, seconds = 0.05) {
  if (await slowQueryOn(url)) return;
  await psql(url, `BEGIN; ALTER TABLE books RENAME TO books_base;
    CREATE VIEW books AS SELECT b.* FROM books_base b CROSS JOIN (SELECT pg_sleep(${seconds})) s;
    COMMIT;`);
}

/** Undoes slowQuery. */
export async function fastQuery(url) {
  if (!(await slowQueryOn(url))) return;
  await psql(url, 'BEGIN; DROP VIEW books; ALTER TABLE books_base RENAME TO books; COMMIT;');
}

export async function resetStatements(url) {
  await psql(url, 'SELECT pg_stat_statements_reset()');
}

/** Executions of book-by-id queries since the last reset (every server's spelling). */
export async function bookQueries(url) {
  const n = await psql(url, `SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
    WHERE query ILIKE '%from books%where%id%' AND query NOT ILIKE '%pg_stat_statements%'`);
  return Number(n);
}
