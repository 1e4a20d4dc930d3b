// env — the environment the integration harness insists on, set for the soak
// before the harness loads (import this module first). The soak needs only
// SB_BINARY: SB_SOURCE_DIR defaults to this repository, and the suite's
// SB_REDIS_URL / SB_DATABASE_URL, which the harness requires but the soak
// never uses (it starts a private Redis and PostgreSQL of its own), are
// pointed at an address that cannot resolve, so a slip fails loudly; a
// SB_REDIS_CACHE_URL from the shell is dropped, so the nodes' cache shares
// the soak's own Redis as scripts/cluster does when only SB_REDIS_URL is set.
// Owns: those four variables of this process.
// Never: lets the soak reach a Redis or PostgreSQL it did not start.
import { fileURLToPath } from 'node:url';

if (!process.env.SB_BINARY) throw new Error('SB_BINARY is not set (a built node, e.g. build/switchboard)');
process.env.SB_SOURCE_DIR ??= fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
process.env.SB_REDIS_URL = 'redis://soak-uses-its-own-redis.invalid:1';
process.env.SB_DATABASE_URL = 'postgresql://soak-uses-its-own-postgres.invalid:1/none';
delete process.env.SB_REDIS_CACHE_URL;
