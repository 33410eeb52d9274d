// The event bus on PostgreSQL LISTEN/NOTIFY, for when there is no Redis. One channel per prefix carrying only
// (topic, id); each process filters for the ids it listens to. A dedicated LISTEN connection that comes back
// after a drop, and a small pool to publish on.
import pg from "pg";
import { pgIdentifier } from "../pgIdentifier.ts";
import type { EventBus, EventTopic, Unsubscribe } from "./eventBus.ts";
import { ListenerSets } from "./listenerSets.ts";

/** NOTIFY payloads must stay under 8000 bytes; ids are short, so anything near this is a caller's bug. */
const MAX_PAYLOAD_BYTES = 1000;
const RECONNECT_DELAY_MS = { first: 100, max: 5000 };

export async function createPostgresEventBus(options: { url: string; prefix: string }): Promise<EventBus> {
  const bus = new PostgresEventBus(options.url, eventChannelName(options.prefix));
  try {
    await bus.listening;
  } catch (error) {
    await bus.close();
    throw error;
  }
  return bus;
}

/** The LISTEN channel of `prefix`: deployments (and test runs) sharing a database don't hear one another. */
export function eventChannelName(prefix: string): string {
  return pgIdentifier("events", prefix);
}

class PostgresEventBus implements EventBus {
  private readonly listeners = new ListenerSets();
  /** Publishing fails fast when PostgreSQL is down (a mutation must not hang on a "look again" signal). */
  private readonly pool: pg.Pool;
  private listener: pg.Client | null = null;
  /** Settles once the current LISTEN connection has confirmed LISTEN. */
  listening: Promise<void>;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly channel: string,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
    this.pool.on("error", () => {}); // an idle pooled client dropped; the next query opens another
    this.listening = this.listen();
  }

  private static key(topic: string, id: string): string {
    return `${topic}\n${id}`;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000, keepAlive: true });
    // Registered before connecting: an unhandled 'error' on a pg.Client would crash the process.
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    client.on("notification", (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      const [topic, id] = JSON.parse(message.payload) as [string, string];
      this.listeners.dispatch(PostgresEventBus.key(topic, id));
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    // Only now does a drop of this client count as "lost" (a failed attempt is the caller's to retry).
    if (this.closed) await client.end().catch(() => {});
    else this.listener = client;
  }

  /** The LISTEN connection died (terminated, network, server restart): listen again until it works. */
  private lost(client: pg.Client) {
    if (this.listener !== client || this.closed) return;
    this.listener = null;
    client.end().catch(() => {});
    this.listening = this.relisten();
    this.listening.catch(() => {}); // only closing stops relisten, and then nobody waits for it
  }

  private async relisten(): Promise<void> {
    let delay = RECONNECT_DELAY_MS.first;
    for (;;) {
      if (this.closed) throw new Error("event bus closed");
      try {
        await this.listen();
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, RECONNECT_DELAY_MS.max);
      }
    }
    // Events published while nobody listened are gone: tell every listener to look again (a spurious look is
    // harmless, a missed one is not).
    for (const key of this.listeners.keys()) this.listeners.dispatch(key);
  }

  async publish(topic: EventTopic, id: string): Promise<void> {
    const payload = JSON.stringify([topic, id]);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) throw new Error(`event id too long (${id.length} chars)`);
    await this.pool.query("SELECT pg_notify($1, $2)", [this.channel, payload]);
  }

  async subscribe(topic: EventTopic, id: string, listener: () => void): Promise<Unsubscribe> {
    const key = PostgresEventBus.key(topic, id);
    const { entry } = this.listeners.add(key, listener);
    // The one LISTEN covers every topic and id: resolve once it is in place (after a reconnect, if one is running).
    await this.listening;
    return async () => {
      this.listeners.remove(key, entry);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    const client = this.listener;
    this.listener = null;
    await Promise.all([client?.end().catch(() => {}), this.pool.end()]);
  }
}
