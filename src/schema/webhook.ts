// Webhooks: an account subscribes a URL to event types; deliveries are signed POSTs (src/domain/webhooks/).
import { builder } from "../api/builder.ts";
import { accountOf } from "../api/context.ts";
import { decodeId, encodeId } from "../api/ids.ts";
import { visibleAccount } from "../api/viewer.ts";
import { Forbidden, InvalidInput, NotFound } from "../domain/errors.ts";
import { createWebhook, deleteWebhook, updateWebhook } from "../domain/webhooks/webhooks.ts";
import { pageOf } from "./connections.ts";
import { resultUnion } from "./errors.ts";

export const EventType = builder.enumType("EventType", {
  description: "What happened; a webhook subscribes to some of these",
  values: {
    HISTORICAL_SYNC_COMPLETED: { description: "a mirror's historical sync copied every older backup" },
    HISTORICAL_SYNC_FAILED: { description: "a mirror's historical sync failed for good" },
    COPY_FAILED: { description: "a backup's copy to the mirror failed for good" },
    RESTORE_COMPLETED: { description: "a restore completed and its validation passed" },
    RESTORE_FAILED: { description: "a restore failed (also a failed validation)" },
    RESTORE_CANCELED: { description: "a restore was canceled" },
    RPO_BREACHED: { description: "a mirror's recovery point is older than its objective" },
    RPO_RECOVERED: { description: "a mirror's recovery point is within its objective again" },
    DRILL_PASSED: { description: "a restore drill's run passed" },
    DRILL_FAILED: { description: "a restore drill's run failed" },
  } as const,
});

const WebhookDeliveryStatus = builder.enumType("WebhookDeliveryStatus", {
  description: "Where a delivery stands",
  values: {
    PENDING: { description: "not yet delivered; will be tried (again)" },
    DELIVERED: { description: "a 2xx answer" },
    FAILED: { description: "every attempt failed (retried for about 24 hours), or the webhook was disabled" },
  } as const,
});

export const WebhookDelivery = builder.prismaNode("WebhookDelivery", {
  description: "One event sent to one webhook, with every attempt's outcome",
  nullable: true,
  id: { field: "id", description: "the delivery's global id" },
  findUnique: (id, ctx) => ({ id, accountId: visibleAccount(ctx) }),
  fields: (t) => ({
    eventId: t.exposeString("eventId", {
      description: "the same on every attempt (the webhook-id header): receivers deduplicate on it",
    }),
    eventType: t.expose("eventType", { type: EventType, description: "what happened" }),
    status: t.expose("status", { type: WebhookDeliveryStatus, description: "where the delivery stands" }),
    attempts: t.exposeInt("attempts", { description: "attempts made so far" }),
    lastResponseStatus: t.exposeInt("lastResponseStatus", {
      nullable: true,
      description: "the HTTP status of the last answer (null: no answer)",
    }),
    lastError: t.exposeString("lastError", {
      nullable: true,
      description: "why the last attempt failed (status, timeout, refused connection, refused address)",
    }),
    payload: t.exposeString("payload", { description: "the JSON body that is sent: { id, type, occurredAt, data }" }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "when the event was dispatched to the webhook" }),
    deliveredAt: t.expose("deliveredAt", {
      type: "DateTime",
      nullable: true,
      description: "when a 2xx answer came",
    }),
  }),
});

export const Webhook = builder.prismaNode("Webhook", {
  description: "A URL subscribed to event types; every delivery is signed with the webhook's secret",
  nullable: true,
  id: { field: "id", description: "the webhook's global id" },
  findUnique: (id, ctx) => ({ id, accountId: visibleAccount(ctx) }),
  fields: (t) => ({
    url: t.exposeString("url", { description: "where deliveries are POSTed" }),
    events: t.field({
      type: [EventType],
      select: { events: true },
      description: "the event types delivered to it",
      resolve: (webhook) => webhook.events,
    }),
    enabled: t.exposeBoolean("enabled", { description: "false: no new deliveries, pending ones end FAILED" }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "when it was created" }),
    deliveries: t.relatedConnection(
      "deliveries",
      {
        description: "its deliveries, oldest first",
        cursor: "createdAt_id",
        query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] },
        totalCount: true,
      },
      { name: "WebhookDeliveryConnection", description: "a page of a webhook's deliveries" },
      { name: "WebhookDeliveryEdge", description: "one delivery and its cursor" },
    ),
  }),
});

builder.queryField("webhooks", (t) =>
  t.prismaConnection(
    {
      type: "Webhook",
      description: "the account's webhooks, oldest first",
      cursor: "createdAt_id",
      authScopes: { account: true },
      totalCount: (_c, _a, ctx) => ctx.services.db.webhook.count({ where: { accountId: accountOf(ctx) } }),
      resolve: (query, _r, _a, ctx) =>
        pageOf(
          ctx.services.db.webhook.findMany({
            ...query,
            where: { accountId: accountOf(ctx) },
            orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          }),
        ),
    },
    { name: "WebhookConnection", description: "a page of webhooks" },
    { name: "WebhookEdge", description: "one webhook and its cursor" },
  ),
);

const CreateWebhookInput = builder.inputType("CreateWebhookInput", {
  description: "A URL and the events it wants",
  fields: (t) => ({
    url: t.string({
      required: true,
      description:
        "http(s), at most 2,048 characters, no credentials; private, loopback and link-local addresses are refused " +
        "unless the operator allows them",
    }),
    events: t.field({ type: [EventType], required: true, description: "at least one" }),
  }),
});

const CreateWebhookPayload = builder
  .objectRef<{ webhook: { id: string }; signingSecret: string }>("CreateWebhookPayload")
  .implement({
    description: "The new webhook and its signing secret",
    fields: (t) => ({
      webhook: t.field({
        type: Webhook,
        nullable: false,
        description: "the new webhook",
        resolve: async (payload, _a, ctx) =>
          ctx.services.db.webhook.findUniqueOrThrow({ where: { id: payload.webhook.id } }),
      }),
      signingSecret: t.exposeString("signingSecret", {
        description: "shown once: receivers verify the webhook-signature header with it",
      }),
    }),
  });

builder.mutationField("createWebhook", (t) =>
  t.field({
    type: CreateWebhookPayload,
    description: "Subscribes a URL to event types; the answer carries the signing secret, shown only this once",
    authScopes: { account: true },
    errors: resultUnion("CreateWebhookResult", [InvalidInput, Forbidden]),
    args: { input: t.arg({ type: CreateWebhookInput, required: true, description: "the URL and its events" }) },
    resolve: (_r, { input }, ctx) => createWebhook(ctx.services, accountOf(ctx), input),
  }),
);

const UpdateWebhookInput = builder.inputType("UpdateWebhookInput", {
  description: "What to change; fields left out stay as they are",
  fields: (t) => ({
    webhookId: t.id({ required: true, description: "the webhook's global id" }),
    url: t.string({ description: "a new URL, checked as at creation" }),
    events: t.field({ type: [EventType], description: "the new event types (at least one)" }),
    enabled: t.boolean({ description: "false stops new deliveries" }),
  }),
});

const WebhookPayload = builder.objectRef<{ webhookId: string }>("WebhookPayload").implement({
  description: "The webhook after the change",
  fields: (t) => ({
    webhook: t.field({
      type: Webhook,
      nullable: false,
      description: "the webhook as it is now",
      resolve: (payload, _a, ctx) => ctx.services.db.webhook.findUniqueOrThrow({ where: { id: payload.webhookId } }),
    }),
  }),
});

builder.mutationField("updateWebhook", (t) =>
  t.field({
    type: WebhookPayload,
    description: "Changes a webhook's URL, events or enabled flag",
    authScopes: { account: true },
    errors: resultUnion("UpdateWebhookResult", [InvalidInput, NotFound, Forbidden]),
    args: { input: t.arg({ type: UpdateWebhookInput, required: true, description: "what to change" }) },
    resolve: async (_r, { input }, ctx) => {
      const id = decodeId("Webhook", input.webhookId, ["input", "webhookId"]);
      const webhook = await updateWebhook(ctx.services, accountOf(ctx), id, input);
      return { webhookId: webhook.id };
    },
  }),
);

const DeleteWebhookInput = builder.inputType("DeleteWebhookInput", {
  description: "The webhook to delete",
  fields: (t) => ({ webhookId: t.id({ required: true, description: "the webhook's global id" }) }),
});

const DeleteWebhookPayload = builder.objectRef<{ deletedWebhookId: string }>("DeleteWebhookPayload").implement({
  description: "What was deleted",
  fields: (t) => ({
    deletedWebhookId: t.exposeID("deletedWebhookId", { description: "the deleted webhook's global id" }),
  }),
});

builder.mutationField("deleteWebhook", (t) =>
  t.field({
    type: DeleteWebhookPayload,
    description: "Deletes a webhook and its deliveries; nothing more is sent to it",
    authScopes: { account: true },
    errors: resultUnion("DeleteWebhookResult", [NotFound, Forbidden]),
    args: { input: t.arg({ type: DeleteWebhookInput, required: true, description: "the webhook" }) },
    resolve: async (_r, { input }, ctx) => {
      const id = decodeId("Webhook", input.webhookId, ["input", "webhookId"]);
      await deleteWebhook(ctx.services, accountOf(ctx), id);
      return { deletedWebhookId: encodeId("Webhook", id) };
    },
  }),
);
