// Typed storage failures, so callers (copy jobs, restores, GraphQL errors) can tell them apart without parsing messages.

/** Base class of every error this module throws on purpose. */
export class StorageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A manifest names a chunk the region doesn't hold (deleted, never copied, or lost). */
export class MissingChunkError extends StorageError {
  constructor(
    readonly hash: string,
    readonly backupId?: string,
  ) {
    super(`chunk ${hash} is missing${backupId ? ` (backup ${backupId})` : ""}`);
  }
}

/** A chunk's bytes don't hash to its name (bit rot, a truncated file, or a bad transfer). */
export class CorruptChunkError extends StorageError {
  constructor(
    readonly hash: string,
    readonly detail: string,
    readonly backupId?: string,
  ) {
    super(`chunk ${hash} is corrupt${backupId ? ` (backup ${backupId})` : ""}: ${detail}`);
  }
}

/** The region has no manifest for the backup, so as far as it is concerned the backup doesn't exist. */
export class ManifestNotFoundError extends StorageError {
  constructor(
    readonly backupId: string,
    readonly regionId?: string,
  ) {
    super(`backup ${backupId} has no manifest${regionId ? ` in region ${regionId}` : ""}`);
  }
}

/** A backup id, region id or hash that can't safely become a file name (guards against path traversal). */
export class InvalidStorageKeyError extends StorageError {
  constructor(
    readonly kind: "backupId" | "regionId" | "hash",
    readonly value: string,
  ) {
    super(`invalid ${kind}: ${JSON.stringify(value)}`);
  }
}
