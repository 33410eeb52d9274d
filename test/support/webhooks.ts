// Webhook helpers for tests: create one through the API, and wait (bounded) for a delivery row to settle.
import type { Services } from "../../src/services.ts";
import type { TestGateway } from "./gateway.ts";

export const CREATE_WEBHOOK = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { __typename
  ... on CreateWebhookPayload { signingSecret webhook { id } } ... on Error { code message } } }`;

export async function createWebhook(gw: TestGateway, key: string, url: string, events: string[]) {
  const data = await gw.gql(key, CREATE_WEBHOOK, { input: { url, events } });
  if (!data.createWebhook.signingSecret) throw new Error(JSON.stringify(data));
  return data.createWebhook as { signingSecret: string; webhook: { id: string } };
}

/** The deliveries of an event once none is PENDING any more; fails after `ms` (the row is re-read every 25 ms). */
export async function settledDeliveries(
  services: Services,
  where: { eventId?: string; webhookId?: string },
  ms: number,
) {
  const until = Date.now() + ms;
  for (;;) {
    const rows = await services.db.webhookDelivery.findMany({ where, orderBy: { createdAt: "asc" } });
    if (rows.length && rows.every((row) => row.status !== "PENDING")) return rows;
    if (Date.now() > until)
      throw new Error(`deliveries ${JSON.stringify(where)} not settled in ${ms} ms: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
