// The cap on concurrent copies per region pair, shared by every process: slot i of a pair is the PostgreSQL
// session advisory lock (pair hash, i). One connection per process holds all of its slots, so a crashed process
// (its connection closes) frees them at once; nothing needs a lease or a sweep.
import { createHash } from "node:crypto";
import pg from "pg";

import type { CopySlot, CopySlots } from "./copySlotTypes.ts";

export type { CopySlot, CopySlots };

/** The lock's first key: the pair, hashed to a 32-bit integer (the second key is the slot's index). */
export function pairLockKey(fromRegionId: string, toRegionId: string): number {
  return createHash("sha256").update(`mvg-copy-slot:${fromRegionId}>${toRegionId}`).digest().readInt32BE(0);
}

export function createCopySlots(databaseUrl: string): CopySlots {
  let client: Promise<pg.Client> | null = null;
  /** Slots this process holds: a session may take its own advisory lock twice, so PostgreSQL can't tell us. */
  const held = new Map<string, object>();
  let closed = false;

  function session(): Promise<pg.Client> {
    if (!client) {
      const connecting = (async () => {
        const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
        // A lost connection has lost its locks: the next acquire opens a new one. The running copies finish
        // uncapped (they can't be stopped cleanly from here); the cap holds again for the copies that follow.
        c.on("error", () => {
          if (client === connecting) client = null;
          held.clear();
        });
        c.on("end", () => {
          if (client === connecting) client = null;
          held.clear();
        });
        await c.connect();
        return c;
      })();
      client = connecting;
      connecting.catch(() => {
        if (client === connecting) client = null;
      });
    }
    return client;
  }

  return {
    async tryAcquire(fromRegionId, toRegionId, limit) {
      if (closed) throw new Error("the copy slots are closed (the process is shutting down)");
      const key = pairLockKey(fromRegionId, toRegionId);
      // Random start: the processes don't all probe slot 0 first.
      const start = Math.floor(Math.random() * limit);
      for (let n = 0; n < limit; n++) {
        const slot = (start + n) % limit;
        const id = `${key}/${slot}`;
        if (held.has(id)) continue;
        const mine = {};
        held.set(id, mine); // claimed before the await, so a concurrent acquire in this process skips it
        const drop = () => held.get(id) === mine && held.delete(id);
        const c = await session().catch((error) => {
          drop();
          throw error;
        });
        const { rows } = await c
          .query<{ ok: boolean }>("select pg_try_advisory_lock($1::int, $2::int) as ok", [key, slot])
          .catch((error) => {
            drop();
            throw error;
          });
        if (!rows[0].ok) {
          drop();
          continue;
        }
        let released = false;
        return {
          async release() {
            if (released) return;
            released = true;
            // Only the session that took it can unlock; if that session is gone, so is the lock.
            if (client !== null && (await client.catch(() => null)) === c) {
              await c.query("select pg_advisory_unlock($1::int, $2::int)", [key, slot]).catch(() => {});
            }
            drop();
          },
        };
      }
      return null;
    },
    async close() {
      closed = true;
      const c = await client?.catch(() => null);
      client = null;
      held.clear();
      await c?.end().catch(() => {});
    },
  };
}
