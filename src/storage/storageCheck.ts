// Start-up check of each served region's store: one line naming the region and its variable for an unreachable
// endpoint, rejected credentials or a missing bucket (never the secret, never a stack), within a bound.
import { randomBytes } from "node:crypto";
import { access, constants, mkdir } from "node:fs/promises";
import { DeleteObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { StorageError } from "./errors.ts";
import type { RegionalStorage } from "./regionalStorage.ts";
import type { S3BlobStore } from "./s3BlobStore.ts";
import { isNotFound, s3ClientFor } from "./s3Client.ts";
import { describeStorage, type S3StorageSpec, storageVariable } from "./storageConfig.ts";

export class StorageCheckError extends StorageError {}

/** Checks every region in `regionIds` (in parallel); throws StorageCheckError for the first that fails. */
export async function checkRegionalStorage(
  storage: RegionalStorage,
  regionIds: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const results = await Promise.allSettled(
    regionIds.map((id) => checkRegion(storage, id, options.timeoutMs ?? 10_000)),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

async function checkRegion(storage: RegionalStorage, regionId: string, timeoutMs: number): Promise<void> {
  const spec = storage.spec(regionId);
  const variable = spec.variable ?? `STORAGE_DIR (${storageVariable(regionId)} unset)`;
  const where = `region ${regionId}: ${describeStorage(spec)}`;
  try {
    if (spec.kind === "file") {
      await mkdir(spec.dir, { recursive: true });
      await access(spec.dir, constants.W_OK);
      return;
    }
    await probe(spec, (storage.region(regionId) as S3BlobStore).prefix, timeoutMs);
  } catch (error) {
    throw new StorageCheckError(`${variable}: ${where} ${reason(error, timeoutMs)}`);
  }
}

/** HeadBucket, a one-key list, then a tiny put and delete: reachability, credentials, bucket, write access. */
async function probe(spec: S3StorageSpec, prefix: string, timeoutMs: number): Promise<void> {
  // A client of its own with one attempt: the store's retries would only delay the verdict.
  const client = s3ClientFor(spec, { maxAttempts: 1 });
  const steps = async () => {
    await client.send(new HeadBucketCommand({ Bucket: spec.bucket }));
    await client.send(new ListObjectsV2Command({ Bucket: spec.bucket, Prefix: prefix, MaxKeys: 1 }));
    const Key = `${prefix}probes/${randomBytes(8).toString("hex")}`;
    await client.send(new PutObjectCommand({ Bucket: spec.bucket, Key, Body: "probe" }));
    await client.send(new DeleteObjectCommand({ Bucket: spec.bucket, Key }));
  };
  try {
    await withDeadline(steps(), timeoutMs);
  } finally {
    // Also cuts a request still waiting on a server that never answers.
    client.destroy();
  }
}

function reason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const code = e?.code ?? (e as { cause?: { code?: string } })?.cause?.code;
  if (e instanceof DeadlineError) return `did not answer within ${timeoutMs} ms`;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "ECONNRESET")
    return `is unreachable (${code})`;
  if (e?.name === "TimeoutError") return "is unreachable (connection timed out)";
  if (status === 404 || isNotFound(error) || e?.name === "NoSuchBucket") return "does not exist (no such bucket)";
  if (status === 403 || status === 401 || /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch/.test(e?.name ?? "")) {
    // A HEAD answer has no body, so the SDK has no error code for it: the status says enough.
    const named = e?.name && e.name !== "Unknown" && e.name !== "Forbidden";
    return `rejected the credentials (${named ? e.name : `HTTP ${status}`})`;
  }
  if (status) return `failed the check (HTTP ${status}${e?.name ? ` ${e.name}` : ""})`;
  // File stores: the errno code says it; the message would repeat the path.
  return `cannot be created or written (${code ?? e?.name ?? "error"})`;
}

class DeadlineError extends Error {}

function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError()), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
