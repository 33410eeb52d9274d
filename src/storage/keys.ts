// Names that end up in file paths (and S3 keys) are checked here, so no caller can escape the region's directory.
import { hash } from "node:crypto";
import { InvalidStorageKeyError } from "./errors.ts";

/**
 * Lowercase hex SHA-256 of `bytes`: the name of a chunk. One-shot `crypto.hash` (no Hash object per call), which for
 * ~2 KiB chunks costs about half of createHash().update().digest().
 */
export function sha256Hex(bytes: Uint8Array | string): string {
  return hash("sha256", bytes, "hex");
}

const hashPattern = /^[0-9a-f]{64}$/;
// Letters, digits, '.', '_' and '-'; no leading dot (hidden/temp files) and no "..".
const namePattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export function assertHash(hash: string): void {
  if (!hashPattern.test(hash)) throw new InvalidStorageKeyError("hash", hash);
}

export function assertBackupId(backupId: string): void {
  if (!namePattern.test(backupId) || backupId.includes("..")) throw new InvalidStorageKeyError("backupId", backupId);
}

export function assertRegionId(regionId: string): void {
  if (!namePattern.test(regionId) || regionId.includes("..")) throw new InvalidStorageKeyError("regionId", regionId);
}
