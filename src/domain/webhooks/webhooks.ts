// An account's webhooks (R17: only its own). The signing secret is made here, returned once by createWebhook and
// otherwise kept only sealed (AES-256-GCM under SECRET_KEY, like the HANA password, R16).
import { resolveReceiver, urlProblem } from "../../webhooks/addressGuard.ts";
import { newSigningSecret } from "../../webhooks/signature.ts";
import { type FieldIssue, InvalidInput, NotFound } from "../errors.ts";
import type { EventType } from "../events/outbox.ts";
import type { Ports } from "../ports.ts";
import { encryptSecret } from "../secrets.ts";

type WebhookPorts = Pick<Ports, "db" | "config">;

/** What a webhook row shows; the sealed secret never leaves the domain. */
export const webhookColumns = { id: true, accountId: true, url: true, events: true, enabled: true, createdAt: true };

/** The URL's form, then where its host resolves (the SSRF guard); issues at `path`. */
async function checkUrl(ports: WebhookPorts, url: string, path: string[]): Promise<FieldIssue | null> {
  const problem = urlProblem(url);
  if (problem) return { path, message: problem };
  try {
    await resolveReceiver(url, ports.config.webhooks.allowPrivateNetworks);
  } catch (error) {
    return { path, message: (error as Error).message };
  }
  return null;
}

function checkEvents(events: readonly EventType[], path: string[]): FieldIssue | null {
  return events.length ? null : { path, message: "subscribe to at least one event type" };
}

function refuse(issues: (FieldIssue | null)[]): void {
  const found = issues.filter((issue): issue is FieldIssue => issue !== null);
  if (found.length) throw new InvalidInput(found.map((issue) => issue.message).join("; "), found);
}

export async function createWebhook(
  ports: WebhookPorts,
  accountId: string,
  input: { url: string; events: readonly EventType[] },
) {
  const url = input.url.trim();
  refuse([checkEvents(input.events, ["input", "events"]), await checkUrl(ports, url, ["input", "url"])]);
  const signingSecret = newSigningSecret();
  const webhook = await ports.db.webhook.create({
    data: {
      accountId,
      url,
      events: [...new Set(input.events)],
      secretSealed: encryptSecret(signingSecret, ports.config.secretKey),
    },
    select: webhookColumns,
  });
  return { webhook, signingSecret };
}

export async function findWebhook(ports: Pick<Ports, "db">, accountId: string, webhookId: string) {
  const webhook = await ports.db.webhook.findFirst({ where: { id: webhookId, accountId }, select: webhookColumns });
  if (!webhook) throw new NotFound(`no webhook with id "${webhookId}"`);
  return webhook;
}

export async function updateWebhook(
  ports: WebhookPorts,
  accountId: string,
  webhookId: string,
  input: { url?: string | null; events?: readonly EventType[] | null; enabled?: boolean | null },
) {
  const url = input.url?.trim();
  refuse([
    input.events ? checkEvents(input.events, ["input", "events"]) : null,
    url !== undefined ? await checkUrl(ports, url, ["input", "url"]) : null,
  ]);
  await findWebhook(ports, accountId, webhookId);
  const { count } = await ports.db.webhook.updateMany({
    where: { id: webhookId, accountId },
    data: {
      ...(url !== undefined ? { url } : {}),
      ...(input.events ? { events: [...new Set(input.events)] } : {}),
      // Re-enabled (or pointed elsewhere): whatever paused the old receiver no longer applies.
      ...(typeof input.enabled === "boolean" ? { enabled: input.enabled } : {}),
      ...(url !== undefined || input.enabled ? { pausedUntil: null } : {}),
    },
  });
  if (!count) throw new NotFound(`no webhook with id "${webhookId}"`);
  return findWebhook(ports, accountId, webhookId);
}

/** Deletes the webhook and its deliveries; queued attempts find their row gone and stop. */
export async function deleteWebhook(ports: Pick<Ports, "db">, accountId: string, webhookId: string) {
  const { count } = await ports.db.webhook.deleteMany({ where: { id: webhookId, accountId } });
  if (!count) throw new NotFound(`no webhook with id "${webhookId}"`);
  return webhookId;
}
