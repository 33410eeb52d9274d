// The queue dashboard (bull-board) at /admin/queues, for the platform admin: every region's queues, grouped by region
// (`<region>.<kind>`). Read-only: the database is the source of truth and the reconciler re-queues what it says is
// due, so removing or promoting jobs by hand would only fight it. Served by Hono, mounted on the Node server.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { getRequestListener } from "@hono/node-server";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import { Hono } from "hono";
import type { Ports } from "../domain/ports.ts";
import { QUEUE_KINDS } from "../queue/queues.ts";

export const QUEUE_DASHBOARD_PATH = "/admin/queues";

export function createQueueDashboard(
  ports: Pick<Ports, "queues" | "regions">,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(QUEUE_DASHBOARD_PATH);
  const queues = ports.regions.all.flatMap((region) =>
    QUEUE_KINDS.map(
      (kind) =>
        // Either backend's Queue: bull-board reads BullMQ's own API, and knows BullMQ's PostgreSQL backend too.
        new BullMQAdapter(ports.queues.get(region.id, kind) as Queue, {
          readOnlyMode: true,
          delimiter: ".",
          description: `${kind} jobs of ${region.name}`,
        }),
    ),
  );
  createBullBoard({ queues, serverAdapter, options: { uiConfig: { boardTitle: "Mirror Vault Gateway queues" } } });
  const app = new Hono();
  app.route(QUEUE_DASHBOARD_PATH, serverAdapter.registerPlugin());
  const listener = getRequestListener(app.fetch);
  return async (req, res) => {
    await listener(req, res);
  };
}
