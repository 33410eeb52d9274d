// A Yoga pub/sub event target over Redis pub/sub, written on ioredis directly
// (@graphql-yoga/redis-event-target wants ioredis 5). API replicas and workers share events through it.
import type { Redis } from "ioredis";

type Listener = ((event: CustomEvent) => void) | { handleEvent(event: CustomEvent): void };

export function createRedisEventTarget(options: { publish: Redis; subscribe: Redis; channelPrefix: string }) {
  const { publish, subscribe, channelPrefix } = options;
  const listeners = new Map<string, Set<Listener>>();

  subscribe.on("message", (channel: string, message: string) => {
    const type = channel.slice(channelPrefix.length);
    const set = listeners.get(type);
    if (!set) return;
    const event = new CustomEvent(type, { detail: message === "" ? undefined : JSON.parse(message) });
    for (const listener of set) {
      if (typeof listener === "function") listener(event);
      else listener.handleEvent(event);
    }
  });

  return {
    addEventListener(type: string, listener: Listener | null) {
      if (!listener) return;
      let set = listeners.get(type);
      if (!set) {
        set = new Set();
        listeners.set(type, set);
        void subscribe.subscribe(channelPrefix + type);
      }
      set.add(listener);
    },
    removeEventListener(type: string, listener: Listener | null) {
      const set = listeners.get(type);
      if (!set || !listener) return;
      set.delete(listener);
      if (set.size === 0) {
        listeners.delete(type);
        void subscribe.unsubscribe(channelPrefix + type);
      }
    },
    dispatchEvent(event: CustomEvent) {
      void publish.publish(channelPrefix + event.type, event.detail === undefined ? "" : JSON.stringify(event.detail));
      return true;
    },
  };
}
