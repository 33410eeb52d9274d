// Subscriptions yield a row each time it changes. Events say "look again"; a slow re-read every second also
// catches an event that fired before the listener was attached, so no update is ever lost.
import { eventStream } from "../api/eventStream.ts";
import type { EventBus, EventTopic } from "../events/eventBus.ts";

export async function* watchRow<T>(
  source: { bus: EventBus; topic: EventTopic; id: string },
  read: () => Promise<T>,
  versionOf: (row: T) => string,
  isFinal: (row: T) => boolean,
): AsyncGenerator<T> {
  const events = eventStream(source.bus, source.topic, source.id);
  let lastVersion = "";
  let pending = events.next();
  try {
    for (;;) {
      const row = await read();
      const version = versionOf(row);
      if (version !== lastVersion) {
        lastVersion = version;
        yield row;
      }
      if (isFinal(row)) return;
      const timeout = new Promise<"tick">((resolve) => setTimeout(() => resolve("tick"), 1000).unref());
      const winner = await Promise.race([pending, timeout]);
      if (winner !== "tick") {
        if ((winner as IteratorResult<unknown>).done) return;
        pending = events.next();
      }
    }
  } finally {
    await events.return?.();
  }
}
