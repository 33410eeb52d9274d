// An S3-compatible server for tests and benchmarks: s3rver on loopback, its objects under `dir`.
// In-process: `startS3Server({ dir, buckets })`. As a process of its own (one per region in a geo test):
//   node --import tsx test/support/s3Server.ts --port N --dir D --bucket B [--bucket C]
// prints `S3 listening <endpoint>` when ready, then `S3 <METHOD> <path>` per request, and stops on SIGTERM/SIGINT.
// Credentials: access key S3RVER (s3rver checks the key id, not the SigV4 signature, so any secret passes).
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, unlink, utimes } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import S3rver from "s3rver";

export const S3_ACCESS_KEY_ID = "S3RVER";
export const S3_SECRET_ACCESS_KEY = "S3RVER";

export type S3Server = {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** HTTP requests received so far. */
  readonly requests: number;
  close(): Promise<void>;
};

export type S3ServerOptions = {
  dir: string;
  /** 0 or unset: a free port. */
  port?: number;
  buckets?: string[];
  /** Called for each request, before it is handled. */
  onRequest?: (request: IncomingMessage) => void;
};

export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  await mkdir(options.dir, { recursive: true });
  const server = new S3rver({
    address: "127.0.0.1",
    port: options.port ?? 0,
    directory: options.dir,
    silent: true,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  behaveLikeS3(server);
  const address = await server.run();
  const http = (server as unknown as { httpServer: import("node:http").Server }).httpServer;
  let requests = 0;
  http.prependListener("request", (request: IncomingMessage) => {
    requests++;
    options.onRequest?.(request);
  });
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    get requests() {
      return requests;
    },
    async close() {
      // Keep-alive sockets of SDK clients would hold close() open.
      http.closeAllConnections();
      await server.close();
    },
  };
}

/**
 * Where s3rver 3.7 differs from S3 in ways the stores rely on. It writes an object in place (truncate, then
 * stream) and answers before the file is flushed, so a concurrent or immediate reader can see part of it; S3 never
 * shows a partial object: write to a temp file, rename, and answer only after the rename.
 */
function behaveLikeS3(server: S3rver): void {
  const store = (server as unknown as { store: any }).store;
  store.putObject = async (object: any) => {
    const path: string = store.getResourcePath(object.bucket, object.key, "object");
    const temp = `${path}.${randomBytes(6).toString("hex")}.upload`;
    await mkdir(dirname(path), { recursive: true });
    const md5 = createHash("md5");
    let size = 0;
    try {
      const content = Buffer.isBuffer(object.content) ? [object.content] : object.content;
      await pipeline(
        content,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const piece of source) {
            md5.update(piece);
            size += piece.length;
            yield piece;
          }
        },
        createWriteStream(temp),
      );
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    const digest = md5.digest("hex");
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
  // S3 gives an object copied onto itself a new LastModified; s3rver only rewrites its metadata file.
  const copyObject = store.copyObject.bind(store);
  store.copyObject = async (srcBucket: string, srcKey: string, destBucket: string, destKey: string, ...rest: any[]) => {
    if (srcBucket === destBucket && srcKey === destKey) {
      const now = new Date();
      await utimes(store.getResourcePath(srcBucket, srcKey, "object"), now, now);
    }
    return copyObject(srcBucket, srcKey, destBucket, destKey, ...rest);
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      dir: { type: "string" },
      bucket: { type: "string", multiple: true, default: [] },
    },
  });
  if (!values.dir) {
    console.error("usage: node --import tsx test/support/s3Server.ts --port N --dir D --bucket B");
    process.exit(2);
  }
  const server = await startS3Server({
    dir: values.dir,
    port: Number(values.port),
    buckets: values.bucket,
    onRequest: (request) => console.log(`S3 ${request.method} ${request.url}`),
  });
  console.log(`S3 listening ${server.endpoint}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
