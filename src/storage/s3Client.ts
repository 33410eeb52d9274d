// The S3 client every store and check uses, and how its "not found" answers look.
import { S3Client } from "@aws-sdk/client-s3";
import type { S3StorageSpec } from "./storageConfig.ts";

/** An S3 client for a spec: checksums only when an operation requires them (S3-compatible servers differ). */
export function s3ClientFor(spec: S3StorageSpec, options: { maxAttempts?: number } = {}): S3Client {
  // The pinned SDK release runs on Node 20; its 8-line notice about later releases needing Node 22 would greet every
  // start. Whoever upgrades the SDK meets that in package.json and the toolchain note instead.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return new S3Client({
    region: spec.region,
    endpoint: spec.endpoint,
    forcePathStyle: spec.forcePathStyle,
    credentials: { accessKeyId: spec.accessKeyId, secretAccessKey: spec.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: options.maxAttempts,
    // A dead endpoint fails within seconds instead of hanging on connect; a stalled socket after 2 idle minutes.
    requestHandler: { connectionTimeout: 5000, requestTimeout: 120_000 },
  });
}

export const isNotFound = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
};
