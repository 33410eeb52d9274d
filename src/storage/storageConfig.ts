// Per-region storage configuration: STORAGE_<REGION> (region id upper-cased, '-' → '_') holds
// `s3://<accessKeyId>:<secretAccessKey>@<bucket>/<prefix>?endpoint=…&region=…&forcePathStyle=true` or
// `file:///abs/path`; unset, the region's file store lives under STORAGE_DIR/<region> as before.
// Pure: parses one value. The configuration schema (src/configRegional.ts) reads the variables and names the variable in
// its one-line refusal; the reasons here never echo a secret.
import { StorageError } from "./errors.ts";

export type FileStorageSpec = { kind: "file"; dir: string };

export type S3StorageSpec = {
  kind: "s3";
  bucket: string;
  /** "" or a key prefix ending in "/". */
  prefix: string;
  /** Unset: AWS's own endpoint for `region`. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
};

export type StorageSpec = FileStorageSpec | S3StorageSpec;

/** A region's spec plus the variable it came from (for error messages). */
export type RegionStorageSpec = StorageSpec & { variable: string };

/** A value is malformed; the message says why (never the value's credentials), the schema adds the variable. */
export class StorageConfigError extends StorageError {}

/** `cn-hangzhou` → `STORAGE_CN_HANGZHOU`. */
export function storageVariable(regionId: string): string {
  return `STORAGE_${regionId.toUpperCase().replace(/[-.]/g, "_")}`;
}

const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const s3Params = new Set(["endpoint", "region", "forcePathStyle"]);

/** Parses one variable's value; throws StorageConfigError saying why. */
export function parseStorageUrl(value: string): StorageSpec {
  const fail = (why: string): never => {
    throw new StorageConfigError(why);
  };
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    // The value itself may hold a secret: say what is expected instead of echoing it.
    return fail(
      "not a URL; expected s3://<accessKeyId>:<secretAccessKey>@<bucket>/<prefix>?endpoint=… or file:///abs/path",
    );
  }
  if (url.protocol === "file:") {
    if (url.host) fail("a file URL has no host: use file:///absolute/path");
    const dir = decodeURIComponent(url.pathname);
    if (!dir.startsWith("/") || dir === "/") fail("a file URL needs an absolute directory: file:///absolute/path");
    return { kind: "file", dir: dir.replace(/\/+$/, "") };
  }
  if (url.protocol !== "s3:") return fail(`unsupported scheme "${url.protocol}" (use s3: or file:)`);

  // Credentials first: with a reserved character left unencoded in them (s3://AK:123/x@bucket), the host is part of
  // the credentials and must not be echoed as a bucket name.
  if (!url.username || !url.password) fail("credentials missing: s3://<accessKeyId>:<secretAccessKey>@<bucket>");
  const bucket = url.hostname;
  if (!bucketPattern.test(bucket)) fail(`"${bucket}" is not a valid bucket name`);
  if (url.port) fail("the bucket has no port: put the server in ?endpoint=");
  let accessKeyId = "";
  let secretAccessKey = "";
  try {
    accessKeyId = decodeURIComponent(url.username);
    secretAccessKey = decodeURIComponent(url.password);
  } catch {
    fail("credentials are not valid URL encoding (encode reserved characters with %XX)");
  }
  let segments: string[] = [];
  try {
    segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    fail("the key prefix is not valid URL encoding");
  }
  if (segments.some((s) => s === "." || s === ".." || s.includes("/")))
    fail("the key prefix may not contain . or .. segments or encoded slashes");
  const prefix = segments.length ? `${segments.join("/")}/` : "";

  for (const key of url.searchParams.keys()) {
    if (!s3Params.has(key)) fail(`unknown parameter "${key}" (known: ${[...s3Params].join(", ")})`);
  }
  const endpoint = url.searchParams.get("endpoint") ?? undefined;
  if (endpoint !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(endpoint);
    } catch {}
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      fail(`endpoint "${endpoint}" is not an http(s) URL`);
    }
  }
  const region = url.searchParams.get("region") || "us-east-1";
  const style = url.searchParams.get("forcePathStyle");
  if (style !== null && style !== "true" && style !== "false") fail("forcePathStyle must be true or false");
  // Most self-hosted S3-compatible servers only answer path-style requests, so default to it with an endpoint.
  const forcePathStyle = style === null ? endpoint !== undefined : style === "true";
  return { kind: "s3", bucket, prefix, endpoint, region, forcePathStyle, accessKeyId, secretAccessKey };
}

/** Where a spec points, for logs and errors: never the credentials. */
export function describeStorage(spec: StorageSpec): string {
  if (spec.kind === "file") return `directory ${spec.dir}`;
  const at = spec.endpoint ?? `AWS S3 (${spec.region})`;
  return `bucket "${spec.bucket}"${spec.prefix ? ` prefix "${spec.prefix}"` : ""} at ${at}`;
}
