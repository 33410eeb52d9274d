// S3 copy: throughput of copyBackup for a backup between two regions' S3 stores (two s3rver instances on loopback,
// each its own directory), against a plain S3 GET+PUT of the same bytes between the same two servers in the same
// run: the same objects one after another (the baseline the goal is measured against), and as one streamed object.
// Rounds alternate which goes first; the figure is the median of the rounds' ratios (each pair ran back to back, so
// a noisy neighbour on the machine hits both sides of a ratio alike). The servers' directories are on /dev/shm when
// there is one: the figure is about the copy's own overhead, not the disk's write-back.
import { randomBytes } from "node:crypto";
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { copyBackup } from "../src/storage/copyBackup.ts";
import { S3BlobStore } from "../src/storage/s3BlobStore.ts";
import { s3ClientFor } from "../src/storage/s3Client.ts";
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, type S3Server, startS3Server } from "../test/support/s3Server.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { int, ms, ratio, table } from "./lib/format.ts";
import { ratioGoal } from "./lib/report.ts";

const BACKUP_MB = Number(process.env.BENCH_S3_COPY_MB ?? 128);
const ROUNDS = 7;
const GOAL = 0.8;
const BACKUP_ID = "00000000-0000-4000-8000-0000000000c3";

const mbps = (bytes: number, millis: number) => (bytes / 1024 / 1024 / (millis / 1000)).toFixed(0);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function clientOf(server: S3Server): S3Client {
  return s3ClientFor({
    kind: "s3",
    bucket: "unused",
    prefix: "",
    endpoint: server.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
  });
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function getBytes(client: S3Client, Bucket: string, Key: string): Promise<Uint8Array> {
  const object = await client.send(new GetObjectCommand({ Bucket, Key }));
  return object.Body!.transformToByteArray();
}

async function run(dir: string): Promise<void> {
  const a = await startS3Server({ dir: path.join(dir, "a"), buckets: ["region-a"] });
  const b = await startS3Server({ dir: path.join(dir, "b") });
  const clientA = clientOf(a);
  const clientB = clientOf(b);
  try {
    const bytes = randomBytes(BACKUP_MB * 1024 * 1024);
    const from = new S3BlobStore("cn-hangzhou", clientA, { bucket: "region-a", prefix: "vault/" });
    const manifest = await from.writeBackup(
      BACKUP_ID,
      (async function* () {
        for (let offset = 0; offset < bytes.length; offset += 1 << 20) yield bytes.subarray(offset, offset + (1 << 20));
      })(),
    );
    await clientA.send(new PutObjectCommand({ Bucket: "region-a", Key: "plain/whole.bin", Body: bytes }));
    // The same bytes as objects: every object the source store holds for the backup (its packs, their indexes and
    // the manifest), each fetched whole and put whole.
    const objectKeys: string[] = [];
    for await (const { key } of from.medium.list("")) objectKeys.push(from.objectKey(key));

    const rows = { copy: [] as number[], plain: [] as number[], whole: [] as number[], again: [] as number[] };
    const ratios: number[] = [];
    const requests = { copy: 0, plain: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      // Each round copies into fresh buckets of region B, so nothing is skipped.
      const storeBucket = `store-${round}`;
      const plainBucket = `plain-${round}`;
      for (const Bucket of [storeBucket, plainBucket]) await clientB.send(new CreateBucketCommand({ Bucket }));
      const to = new S3BlobStore("cn-shanghai", clientB, { bucket: storeBucket, prefix: "vault/" });

      const storeCopy = async () => {
        const before = a.requests + b.requests;
        rows.copy.push(await timed(() => copyBackup(from, to, BACKUP_ID)));
        requests.copy = a.requests + b.requests - before;
      };
      const plainCopy = async () => {
        const before = a.requests + b.requests;
        rows.plain.push(
          await timed(async () => {
            for (const Key of objectKeys) {
              const body = await getBytes(clientA, "region-a", Key);
              await clientB.send(new PutObjectCommand({ Bucket: plainBucket, Key, Body: body }));
            }
          }),
        );
        requests.plain = a.requests + b.requests - before;
      };
      // Alternate which goes first, so the page cache and write-back favour neither.
      if (round % 2 === 0) {
        await storeCopy();
        await plainCopy();
      } else {
        await plainCopy();
        await storeCopy();
      }
      ratios.push(rows.plain[round] / rows.copy[round]);
      rows.again.push(await timed(() => copyBackup(from, to, BACKUP_ID)));

      rows.whole.push(
        await timed(async () => {
          const object = await clientA.send(new GetObjectCommand({ Bucket: "region-a", Key: "plain/whole.bin" }));
          await clientB.send(
            new PutObjectCommand({
              Bucket: plainBucket,
              Key: "whole.bin",
              Body: object.Body as NodeJS.ReadableStream as any,
              ContentLength: bytes.length,
            }),
          );
        }),
      );
      const copied = await to.readManifest(BACKUP_ID);
      if (copied?.sizeBytes !== bytes.length)
        throw new BenchmarkFailure("the copy's manifest does not match the source");
      // The round's buckets go (behind s3rver's back: they are never used again), so memory stays bounded.
      for (const bucket of [storeBucket, plainBucket]) await rm(path.join(dir, "b", bucket), { recursive: true });
    }

    const copyMs = median(rows.copy);
    const plainMs = median(rows.plain);
    const wholeMs = median(rows.whole);
    const figure = median(ratios);
    console.log(
      `  copyBackup of a ${BACKUP_MB} MB backup (${manifest.chunks.length} chunks, ${objectKeys.length} objects) from ` +
        "region A's S3 store to region B's " +
        `(two s3rver instances on loopback), medians of ${ROUNDS} rounds:`,
    );
    console.log(
      table([
        ["copy", "ms", "MB/s", "requests", "copyBackup vs it"],
        [
          "copyBackup S3 → S3 (verify, HEAD, manifest last)",
          ms(copyMs),
          mbps(bytes.length, copyMs),
          int(requests.copy),
          "",
        ],
        [
          "plain GET+PUT of the same objects",
          ms(plainMs),
          mbps(bytes.length, plainMs),
          int(requests.plain),
          ratio(figure),
        ],
        ["plain GET→PUT streamed, one object", ms(wholeMs), mbps(bytes.length, wholeMs), "2", ratio(wholeMs / copyMs)],
        ["copyBackup again (nothing missing)", ms(median(rows.again)), "", "", ""],
      ]),
    );
    console.log(
      `  figure: copyBackup at ${ratio(figure)} the throughput of a plain GET+PUT of the same objects (median of the ` +
        `rounds' ratios: ${ratios.map(ratio).join(" ")}); goal ≥ ${ratio(GOAL)}`,
    );
    ratioGoal(
      "copy region A → B, S3 stores",
      `${mbps(bytes.length, copyMs)} MB/s`,
      `plain GET+PUT ${mbps(bytes.length, plainMs)} MB/s`,
      figure,
      GOAL,
    );
    if (figure < GOAL) {
      throw new BenchmarkFailure(
        `copyBackup S3 → S3 at ${ratio(figure)} of a plain GET+PUT misses the goal ${ratio(GOAL)}`,
      );
    }
  } finally {
    clientA.destroy();
    clientB.destroy();
    await a.close();
    await b.close();
  }
}

export const s3Copy: Benchmark = {
  name: "s3-copy",
  description: `copyBackup MB/s for ${BACKUP_MB} MB between two regions' S3 stores (s3rver) vs a plain S3 GET+PUT (goal ≥ ${GOAL}x)`,
  async run() {
    const base = await access("/dev/shm").then(
      () => "/dev/shm",
      () => tmpdir(),
    );
    const dir = await mkdtemp(path.join(base, "mvg-bench-s3copy-"));
    try {
      await run(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

// `npx tsx bench/s3Copy.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  s3Copy.run().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
