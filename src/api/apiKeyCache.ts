// API keys found in the database, trusted for `ttlMs` without asking again: the one SQL round trip every request
// made (`{ __typename }` included) is gone for keys seen recently. A key deleted from the database (revoked) still
// works at most `ttlMs` after the lookup that found it started, so at most `ttlMs` after its revocation. Unknown
// keys are never cached: a new key works at once and a wrong one is asked about every time.
import { hashApiKey } from "../domain/accounts.ts";

/** Enough for every key of a large deployment; beyond it the oldest entries go first. */
const MAX_ENTRIES = 10_000;

export type ApiKeyCache = {
  accountFor(key: string): Promise<string | null>;
  /** The account of a key this cache found within `ttlMs`, without asking anyone; null otherwise. */
  trusted(key: string): string | null;
};

/** `lookup` asks the database which account a key belongs to (null: no such key). */
export function createApiKeyCache(
  lookup: (key: string) => Promise<string | null>,
  ttlMs: number,
  now: () => number = () => performance.now(),
): ApiKeyCache {
  const entries = new Map<string, { accountId: string; expiresAt: number }>();
  return {
    trusted(key) {
      if (ttlMs <= 0) return null;
      const cached = entries.get(hashApiKey(key));
      return cached && cached.expiresAt > now() ? cached.accountId : null;
    },
    async accountFor(key) {
      if (ttlMs <= 0) return lookup(key);
      const hash = hashApiKey(key);
      const cached = entries.get(hash);
      if (cached && cached.expiresAt > now()) return cached.accountId;
      if (cached) entries.delete(hash);
      // Measured from before the lookup: the database may have answered just before a revocation committed.
      const askedAt = now();
      const accountId = await lookup(key);
      if (accountId) {
        if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
        entries.set(hash, { accountId, expiresAt: askedAt + ttlMs });
      }
      return accountId;
    },
  };
}
