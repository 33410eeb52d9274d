// The event bus on both backends, as two processes would use it: one bus publishes, another subscribes.
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventBus } from "../../src/events/eventBus.ts";
import {
  BACKEND_KINDS,
  type BackendKind,
  TEST_REDIS_URL,
  testDatabase,
  testEventBus,
  testPrefix,
} from "../support/backends.ts";

/** Counts a listener's calls; `reach(n)` waits (bounded, no sleeps) until it has been called n times. */
function counter() {
  let calls = 0;
  const waiters = new Set<() => void>();
  const listener = () => {
    calls++;
    for (const check of waiters) check();
  };
  function reach(n: number, ms = 5000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (calls < n) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${calls} of ${n} events within ${ms} ms`));
      }, ms);
      waiters.add(check);
      check();
    });
  }
  return { listener, reach, calls: () => calls };
}

/** Kills the LISTEN / SUBSCRIBE connections of this file's buses (PostgreSQL: pg_terminate_backend); how many. */
async function dropSubscriberConnections(kind: BackendKind): Promise<number> {
  if (kind === "redis") {
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const list = (await redis.client("LIST")) as string;
      const name = `${testPrefix("eventbus", kind)}:events:sub`;
      const ids = list
        .split("\n")
        .filter((line) => line.includes(` name=${name} `))
        .map((line) => /id=(\d+)/.exec(line)![1]);
      for (const id of ids) await redis.client("KILL", "ID", id);
      return ids.length;
    } finally {
      redis.disconnect();
    }
  }
  const admin = new pg.Client({ connectionString: await testDatabase("eventbus") });
  await admin.connect();
  try {
    // This file's database: only its buses' LISTEN sessions run LISTEN there.
    const { rowCount } = await admin.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and query like 'LISTEN%'`,
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe.each(BACKEND_KINDS)("EventBus on %s", (kind) => {
  let publisher: EventBus;
  let subscriber: EventBus;

  beforeAll(async () => {
    publisher = await testEventBus(kind, "eventbus");
    subscriber = await testEventBus(kind, "eventbus");
  });
  afterAll(async () => {
    await publisher?.close();
    await subscriber?.close();
  });

  it("delivers an event published by another bus instance", async () => {
    const got = counter();
    const unsubscribe = await subscriber.subscribe("restore:updated", "r1", got.listener);
    await publisher.publish("restore:updated", "r1");
    await got.reach(1);
    await unsubscribe();
  });

  it("keeps ids and topics apart", async () => {
    const one = counter();
    const two = counter();
    const otherTopic = counter();
    const unsubscribes = await Promise.all([
      subscriber.subscribe("backup:updated", "1", one.listener),
      subscriber.subscribe("backup:updated", "2", two.listener),
      subscriber.subscribe("restore:updated", "1", otherTopic.listener),
    ]);
    await publisher.publish("backup:updated", "2");
    await two.reach(1);
    // A later event on id 1 is delivered after the one on id 2 (same connection, in order): had id 2's event
    // reached id 1, it would have been counted by now.
    await publisher.publish("backup:updated", "1");
    await one.reach(1);
    expect(one.calls()).toBe(1);
    expect(two.calls()).toBe(1);
    expect(otherTopic.calls()).toBe(0);
    await Promise.all(unsubscribes.map((u) => u()));
  });

  it("stops delivering after unsubscribe", async () => {
    const stopped = counter();
    const still = counter();
    const unsubscribe = await subscriber.subscribe("vault:replication", "v1", stopped.listener);
    const keep = await subscriber.subscribe("vault:replication", "v1", still.listener);
    await unsubscribe();
    await publisher.publish("vault:replication", "v1");
    await still.reach(1);
    expect(stopped.calls()).toBe(0);
    await keep();
    // With no listener left the channel is dropped; the next subscription still works.
    const again = counter();
    const last = await subscriber.subscribe("vault:replication", "v1", again.listener);
    await publisher.publish("vault:replication", "v1");
    await again.reach(1);
    expect(stopped.calls()).toBe(0);
    expect(still.calls()).toBe(1);
    await last();
  });

  it("subscribes again after its subscriber connection is dropped", async () => {
    const got = counter();
    const unsubscribe = await subscriber.subscribe("instance:updated", "i1", got.listener);
    // Both buses of this file listen under this file's prefix; dropping both only touches this run's connections.
    expect(await dropSubscriberConnections(kind)).toBe(2);
    // The bus subscribes again and tells its listeners to look again (events during the gap are lost)...
    await got.reach(1, 10_000);
    // ...and events flow again: publish until one more arrives, bounded.
    const deadline = Date.now() + 10_000;
    const target = got.calls() + 1;
    while (got.calls() < target) {
      if (Date.now() > deadline) throw new Error("no event after the subscriber connection was dropped");
      await publisher.publish("instance:updated", "i1").catch(() => {});
      await got.reach(target, 500).catch(() => {});
    }
    await unsubscribe();
  });
});
