// Adapts the event bus to what GraphQL subscriptions consume: an async iterator of "look again" signals.
import { Repeater } from "graphql-yoga";
import type { EventBus, EventTopic } from "../events/eventBus.ts";

export function eventStream(bus: EventBus, topic: EventTopic, id: string): AsyncIterableIterator<void> {
  return new Repeater<void>(async (push, stop) => {
    const unsubscribe = await bus.subscribe(topic, id, () => void push());
    await stop;
    await unsubscribe();
  });
}
