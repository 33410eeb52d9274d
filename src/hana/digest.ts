// The content digest of a simulated HANA database: one fixed function of its rows only.
//
//   digest = hex64( ( Σ over rows of SHA-256(utf8(key) ‖ 0x00 ‖ utf8(value)) read as a 256-bit integer ) mod 2^256 )
//
// A sum is order-independent, so two clusters with equal content report equal digests whatever order the rows
// were written in, and it updates in O(1) per upsert: add the new row's hash, subtract the old one's.
import { hash } from "node:crypto";

const MODULUS = 1n << 256n;
const MASK = MODULUS - 1n;

/** The digest of a database with no rows: 64 zeros. */
export const EMPTY_DIGEST = "0".repeat(64);

/** SHA-256(key ‖ 0x00 ‖ value) as a 256-bit integer. */
export function rowHash(key: string, value: string): bigint {
  // U+0000 encodes as the single byte 0x00 in UTF-8, so this hashes utf8(key) ‖ 0x00 ‖ utf8(value).
  return BigInt(`0x${hash("sha256", `${key}\u0000${value}`, "hex")}`);
}

export function parseDigest(hex: string): bigint {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a content digest: ${JSON.stringify(hex)}`);
  return BigInt(`0x${hex}`);
}

/** A running digest: start from a stored hex digest (or empty), add/remove rows, read `hex`. */
export class DigestAccumulator {
  private sum: bigint;

  constructor(hex: string = EMPTY_DIGEST) {
    this.sum = parseDigest(hex);
  }

  add(key: string, value: string): void {
    this.sum = (this.sum + rowHash(key, value)) & MASK;
  }

  remove(key: string, value: string): void {
    this.sum = (this.sum - rowHash(key, value) + MODULUS) & MASK;
  }

  /** Removes a row given its hash (hex SHA-256 of key ‖ 0x00 ‖ value, as `rowHashSql` computes it). */
  removeHash(hex: string): void {
    this.sum = (this.sum - BigInt(`0x${hex}`) + MODULUS) & MASK;
  }

  /** Replaces `oldValue` (nothing when null/undefined) by `newValue` for `key`. */
  upsert(key: string, oldValue: string | null | undefined, newValue: string): void {
    if (oldValue !== null && oldValue !== undefined) this.remove(key, oldValue);
    this.add(key, newValue);
  }

  get hex(): string {
    return this.sum.toString(16).padStart(64, "0");
  }
}

/** PostgreSQL's expression of `rowHash` (a 32-byte bytea) over the "key" and "value" columns of table alias `t`. */
export function rowHashSql(t: string): string {
  return `sha256(convert_to(${t}."key", 'UTF8') || '\\x00'::bytea || convert_to(${t}."value", 'UTF8'))`;
}

/**
 * Sums of the 8 big-endian 32-bit limbs of row hashes (hex), as decimal strings, back into a digest: the 256-bit
 * sum mod 2^256 is Σ limbSum[i] · 2^(32·(7−i)). Lets PostgreSQL add up the hashes without 256-bit arithmetic.
 */
export function digestFromLimbSums(limbSums: readonly (string | number | bigint)[]): string {
  if (limbSums.length !== 8) throw new Error(`expected 8 limb sums, got ${limbSums.length}`);
  let sum = 0n;
  for (const [index, limb] of limbSums.entries()) sum += BigInt(limb) << BigInt(32 * (7 - index));
  return (sum & MASK).toString(16).padStart(64, "0");
}

/** Full recompute over any row source (an array, or batches streamed from the database). */
export async function digestOfRows(
  rows: Iterable<{ key: string; value: string }> | AsyncIterable<{ key: string; value: string }>,
): Promise<string> {
  const acc = new DigestAccumulator();
  for await (const row of rows) acc.add(row.key, row.value);
  return acc.hex;
}
