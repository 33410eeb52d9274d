import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { NotFound } from "../domain/errors.ts";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type NodeTypeName =
  | "Account"
  | "Vault"
  | "BackupClient"
  | "HanaInstance"
  | "Backup"
  | "Restore"
  | "Webhook"
  | "WebhookDelivery"
  | "RestoreDrill"
  | "DrillRun";

/** Decodes a Relay global id expected to name a `typename`; anything else (malformed, another type) is NOT_FOUND. */
export function decodeId(typename: NodeTypeName, globalId: string, path: string[]): string {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw new NotFound(`no ${typename} with id "${globalId}" (${path.join(".")} is not a valid id)`);
  }
  if (decoded.typename !== typename || !uuid.test(decoded.id)) {
    throw new NotFound(`no ${typename} with id "${globalId}"`);
  }
  return decoded.id;
}

export function encodeId(typename: NodeTypeName, id: string): string {
  return encodeGlobalID(typename, id);
}

/**
 * The row id a decoded global id may name: a well-formed global id can carry any text, and PostgreSQL refuses a
 * non-UUID where a UUID goes, so such an id becomes one that matches no row (Node lookups answer null).
 */
export function rowId(id: string): string {
  return uuid.test(id) ? id : "00000000-0000-0000-0000-000000000000";
}

/**
 * `node` and `nodes` decode ids with this (the builder's relay option): every node type is a row keyed by a UUID,
 * so one that is not a UUID finds nothing, for every type at once.
 */
export function decodeNodeId(globalId: string): { typename: string; id: string } {
  const { typename, id } = decodeGlobalID(globalId);
  return { typename, id: rowId(id) };
}

/** For filters: an id that can't name a row of this type matches nothing (it is not an error to filter by it). */
export function tryDecodeId(typename: NodeTypeName, globalId: string): string {
  try {
    return decodeId(typename, globalId, []);
  } catch {
    return "00000000-0000-0000-0000-000000000000";
  }
}
