// The event bus port: "look again" signals between workers and API replicas. Events carry only an id;
// subscribers re-read the database, the source of truth. Backends: Redis pub/sub, PostgreSQL LISTEN/NOTIFY.

export const EVENT_TOPICS = ["restore:updated", "vault:replication", "instance:updated", "backup:updated"] as const;
export type EventTopic = (typeof EVENT_TOPICS)[number];

export type Unsubscribe = () => Promise<void>;

export interface EventBus {
  /** Tells every subscriber of (topic, id), in any process, to look again. */
  publish(topic: EventTopic, id: string): Promise<void>;
  /** Resolves once listening: every event published after that reaches `listener` until unsubscribed. */
  subscribe(topic: EventTopic, id: string, listener: () => void): Promise<Unsubscribe>;
  close(): Promise<void>;
}
