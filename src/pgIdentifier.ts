// PostgreSQL identifiers (schema, LISTEN channel) derived from a free-form prefix such as QUEUE_PREFIX.
import { createHash } from "node:crypto";

/**
 * `<base>_<prefix>` when that is already a plain identifier of at most 63 bytes (PostgreSQL truncates longer
 * ones silently); otherwise a readable start plus a hash of the exact prefix, so "a-b" and "a_b" stay apart.
 */
export function pgIdentifier(base: string, prefix: string): string {
  const plain = `${base}_${prefix}`;
  if (/^[a-z_][a-z0-9_]*$/.test(plain) && plain.length <= 63) return plain;
  const readable = plain
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, 46);
  return `${readable}_${createHash("sha256").update(prefix).digest("hex").slice(0, 16)}`;
}
