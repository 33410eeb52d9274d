import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Db } from "../db/types.ts";

export const accountName = z
  .string()
  .trim()
  .min(1, "name must not be empty")
  .max(64, "name must be at most 64 characters");

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Creates an account and its API key; the key is returned once and only its hash is stored. */
export async function createAccount(db: Db, name: string) {
  const apiKey = `mvg_${randomBytes(32).toString("base64url")}`;
  const account = await db.account.create({
    data: { name, apiKeys: { create: { keyHash: hashApiKey(apiKey) } } },
  });
  return { account, apiKey };
}

export async function accountForApiKey(db: Db, key: string): Promise<string | null> {
  const found = await db.apiKey.findUnique({ where: { keyHash: hashApiKey(key) }, select: { accountId: true } });
  return found?.accountId ?? null;
}

export function isAdminKey(key: string, adminKey: string): boolean {
  const a = Buffer.from(hashApiKey(key));
  const b = Buffer.from(hashApiKey(adminKey));
  return timingSafeEqual(a, b);
}
