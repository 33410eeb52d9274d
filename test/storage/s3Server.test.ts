// test/support/s3Server.ts, in-process and as a process of its own (how a geo-disaster test runs one per region).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { HeadBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { s3ClientFor } from "../../src/storage/s3Client.ts";
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3Server } from "../support/s3Server.ts";
import { tempDir } from "./helpers.ts";

const client = (endpoint: string, bucket: string) =>
  s3ClientFor({
    kind: "s3",
    bucket,
    prefix: "",
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
  });

describe("startS3Server", () => {
  it("serves the given buckets on loopback and counts requests", async () => {
    const server = await startS3Server({ dir: await tempDir(), buckets: ["alpha"] });
    const s3 = client(server.endpoint, "alpha");
    try {
      expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await s3.send(new HeadBucketCommand({ Bucket: "alpha" }));
      await s3.send(new PutObjectCommand({ Bucket: "alpha", Key: "k", Body: "v" }));
      expect(server.requests).toBe(2);
    } finally {
      s3.destroy();
      await server.close();
    }
  });

  it("CLI: prints its endpoint when ready and one line per request; stops on SIGTERM", async () => {
    const dir = await tempDir();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/support/s3Server.ts", "--port", "0", "--dir", dir, "--bucket", "geo-a"],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    try {
      const first = (await lines.next()).value as string;
      expect(first).toMatch(/^S3 listening http:\/\/127\.0\.0\.1:\d+$/);
      const endpoint = first.slice("S3 listening ".length);
      const s3 = client(endpoint, "geo-a");
      await s3.send(new PutObjectCommand({ Bucket: "geo-a", Key: "a/b", Body: "v" }));
      s3.destroy();
      expect((await lines.next()).value).toBe("S3 PUT /geo-a/a/b?x-id=PutObject");
    } finally {
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      expect(code).toBe(0);
    }
  });
});
