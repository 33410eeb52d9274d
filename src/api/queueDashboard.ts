// The queue dashboard (bull-board) at /admin/queues, for the platform admin: every region's queues, grouped by region
// (`<region>.<kind>`), and the webhook deliveries' queue (`webhooks.delivery`). Read-only: the database is the source
// of truth and the reconciler re-queues what it says is due, so removing or promoting jobs by hand would only fight it. Served by Hono, mounted on the Node server.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { getRequestListener } from "@hono/node-server";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import { Hono } from "hono";
import type { Ports } from "../domain/ports.ts";
import { WEBHOOK_QUEUE } from "../domain/webhooks/deliveryQueue.ts";
import { QUEUE_KINDS } from "../queue/queues.ts";

export const QUEUE_DASHBOARD_PATH = "/admin/queues";

export function createQueueDashboard(
  ports: Pick<Ports, "queues" | "regions">,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(QUEUE_DASHBOARD_PATH);
  // Either backend's Queue: bull-board reads BullMQ's own API, and knows BullMQ's PostgreSQL backend too.
  const board = (queue: unknown, description: string) =>
    new BullMQAdapter(queue as Queue, { readOnlyMode: true, delimiter: ".", description });
  const queues = [
    ...ports.regions.all.flatMap((region) =>
      QUEUE_KINDS.map((kind) => board(ports.queues.get(region.id, kind), `${kind} jobs of ${region.name}`)),
    ),
    // The one queue outside the regions: every worker process delivers webhooks.
    board(ports.queues.named(WEBHOOK_QUEUE), "webhook deliveries (every region's worker processes)"),
  ];
  createBullBoard({ queues, serverAdapter, options: { uiConfig: { boardTitle: "Mirror Vault Gateway queues" } } });
  const app = new Hono();
  app.route(QUEUE_DASHBOARD_PATH, serverAdapter.registerPlugin());
  const listener = getRequestListener(app.fetch);
  return async (req, res) => {
    await listener(req, res);
  };
}
