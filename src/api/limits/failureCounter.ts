// Failed authentications counted per key (a client address, a presented API key) in fixed windows, in the backend
// every API replica shares: Redis when REDIS_URL is set (one key per counter, expiring with its window), else
// PostgreSQL (table AuthFailureWindow). So a limit holds across replicas.
import type { Db } from "../../db/types.ts";

export type FailureCount = { count: number; resetInMs: number };

export interface FailureCounter {
  /** Counts one failure for each key; each key's count in its current window. */
  hit(keys: string[]): Promise<FailureCount[]>;
  /** Each key's count in its current window (0 once the window is over). */
  read(keys: string[]): Promise<FailureCount[]>;
}

// INCR, start the window on the first failure, answer the count and the time left.
const HIT = `local c = redis.call('INCR', KEYS[1])
if c == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {c, redis.call('PTTL', KEYS[1])}`;
const READ = `return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1])}`;

/** What the counter needs of a Redis connection (the queue backend's; this module imports no driver). */
export type RedisScripts = { eval(script: string, numKeys: number, ...args: string[]): Promise<unknown> };

export function redisFailureCounter(redis: RedisScripts, prefix: string, windowMs: number): FailureCounter {
  const run = async (script: string, key: string, args: string[]) => {
    // One key per call, so it works on Redis Cluster whatever slot each counter hashes to.
    const [count, ttl] = (await redis.eval(script, 1, `${prefix}:auth-failures:${key}`, ...args)) as [number, number];
    return { count, resetInMs: Math.max(0, ttl) };
  };
  return {
    hit: (keys) => Promise.all(keys.map((key) => run(HIT, key, [String(windowMs)]))),
    read: (keys) => Promise.all(keys.map((key) => run(READ, key, []))),
  };
}

export function postgresFailureCounter(db: Db, windowMs: number): FailureCounter {
  let hits = 0;
  return {
    async hit(keys) {
      const now = Date.now();
      // Now and then, forget windows long over (the table holds only the last few minutes of failures).
      if (++hits % 100 === 0) {
        await db.$executeRaw`delete from "AuthFailureWindow" where "resetAt" < ${BigInt(now - windowMs)}`;
      }
      return Promise.all(
        keys.map(async (key) => {
          const rows = await db.$queryRaw<{ count: number; resetAt: bigint }[]>`
            insert into "AuthFailureWindow" (key, count, "resetAt") values (${key}, 1, ${BigInt(now + windowMs)})
            on conflict (key) do update set
              count = case when "AuthFailureWindow"."resetAt" <= ${BigInt(now)} then 1
                           else "AuthFailureWindow".count + 1 end,
              "resetAt" = case when "AuthFailureWindow"."resetAt" <= ${BigInt(now)} then excluded."resetAt"
                               else "AuthFailureWindow"."resetAt" end
            returning count, "resetAt"`;
          return { count: rows[0].count, resetInMs: Math.max(0, Number(rows[0].resetAt) - now) };
        }),
      );
    },
    async read(keys) {
      const now = Date.now();
      const rows = await db.$queryRaw<{ key: string; count: number; resetAt: bigint }[]>`
        select key, count, "resetAt" from "AuthFailureWindow" where key = any(${keys}) and "resetAt" > ${BigInt(now)}`;
      return keys.map((key) => {
        const row = rows.find((r) => r.key === key);
        return row ? { count: row.count, resetInMs: Number(row.resetAt) - now } : { count: 0, resetInMs: 0 };
      });
    },
  };
}
