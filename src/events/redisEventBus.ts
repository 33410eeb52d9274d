// The event bus on Redis pub/sub, on ioredis directly: one channel per (topic, id), so a process only receives the
// events somebody in it listens to. One publisher and one subscriber connection per bus.
import type { Redis } from "ioredis";
import { createRedis, waitReady } from "../redis.ts";
import type { EventBus, EventTopic, Unsubscribe } from "./eventBus.ts";
import { ListenerSets } from "./listenerSets.ts";

export async function createRedisEventBus(options: { url: string; prefix: string }): Promise<EventBus> {
  const name = `${options.prefix.replace(/\s/g, "_")}:events`; // CLIENT SETNAME allows no spaces
  const publisher = createRedis(options.url, "producer", `${name}:pub`);
  const subscriber = createRedis(options.url, "subscriber", `${name}:sub`);
  try {
    await Promise.all([waitReady(publisher), waitReady(subscriber)]);
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    throw error;
  }
  return new RedisEventBus(publisher, subscriber, `${options.prefix}:events:`);
}

class RedisEventBus implements EventBus {
  private readonly listeners = new ListenerSets();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channelPrefix: string;
  /** SUBSCRIBE/UNSUBSCRIBE of a channel still in flight: a second subscriber waits for the same confirmation. */
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(publisher: Redis, subscriber: Redis, channelPrefix: string) {
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.channelPrefix = channelPrefix;
    subscriber.on("message", (channel: string) => this.listeners.dispatch(channel));
    // Built once the connection is ready, so every later "ready" is a reconnect. ioredis subscribes again by
    // itself (after emitting "ready"), but events published meanwhile are gone: once the channels are confirmed
    // again, tell every listener to look again (a spurious look is harmless, a missed one is not).
    subscriber.on("ready", () => {
      const channels = this.listeners.keys();
      if (channels.length === 0) return;
      subscriber.subscribe(...channels).then(
        () => {
          for (const channel of channels) this.listeners.dispatch(channel);
        },
        () => {}, // dropped again: the next "ready" retries
      );
    });
  }

  private channel(topic: EventTopic, id: string): string {
    return `${this.channelPrefix}${topic}:${id}`;
  }

  async publish(topic: EventTopic, id: string): Promise<void> {
    await this.publisher.publish(this.channel(topic, id), "");
  }

  async subscribe(topic: EventTopic, id: string, listener: () => void): Promise<Unsubscribe> {
    const channel = this.channel(topic, id);
    const { entry, first } = this.listeners.add(channel, listener);
    if (first) {
      // Commands on one connection run in order, so this SUBSCRIBE follows any UNSUBSCRIBE still in flight.
      // The caller sees a failure through `pending` below.
      this.track(channel, this.subscriber.subscribe(channel)).catch(() => {});
    }
    try {
      await this.pending.get(channel);
    } catch (error) {
      this.listeners.remove(channel, entry);
      throw error;
    }
    let subscribed = true;
    return async () => {
      if (!subscribed) return;
      subscribed = false;
      if (!this.listeners.remove(channel, entry)) return;
      await this.track(channel, this.subscriber.unsubscribe(channel));
    };
  }

  private async track(channel: string, command: Promise<unknown>): Promise<void> {
    this.pending.set(channel, command);
    try {
      await command;
    } finally {
      if (this.pending.get(channel) === command) this.pending.delete(channel);
    }
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}
