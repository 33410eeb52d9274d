// The child process of bench/memory.ts: one phase of the data path on a backup of BENCH_MEMORY_MB (1 GiB by default)
// in its own process, so its peak RSS (VmHWM) is the phase's alone. Prints one JSON line.
//   backup <dir>:  a COMPLETE backup in the simulator's NDJSON format, generated on the fly, written into region A's
//                  file store (content-defined chunks, packs, fsync), then copied to region B's store (copyBackup).
//   idle <dir>:    nothing: the modules loaded (the baseline).
//   restore <dir>: the worker's restore path from region B's store: FETCHING (fetchChain stages every chunk, verified),
//                  then the staged stream parsed entry by entry (openBackup) into a sink that discards the rows.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fetchChain, stagedChain } from "../../src/domain/restores/chainStreams.ts";
import { BACKUP_FORMAT, encodeLines, openBackup, trailer } from "../../src/hana/ndjson.ts";
import { copyBackup, FileBlobStore } from "../../src/storage/index.ts";
import { ChunkStaging } from "../../src/storage/staging.ts";

export const MEMORY_BACKUP_ID = "00000000-0000-4000-8000-00000000e1e1";
const MB = 1024 * 1024;

/** ~`bytes` of NDJSON rows (a header, rows of ~1 KB, a trailer), generated 1,000 rows at a time. */
async function* backupStream(bytes: number): AsyncGenerator<Uint8Array> {
  const value = (seed: Buffer) => seed.toString("base64").repeat(10).slice(0, 1000);
  const rowBytes = 1060;
  const rows = Math.ceil(bytes / rowBytes);
  yield encodeLines([
    {
      format: BACKUP_FORMAT,
      kind: "DATA",
      type: "COMPLETE",
      database: "MEM",
      logPositionStart: "1",
      logPositionEnd: "1",
      basePosition: null,
      commitTime: null,
      digest: "0",
      rowCount: rows,
    },
  ]);
  for (let written = 0; written < rows; ) {
    const batch = Math.min(1000, rows - written);
    const lines = Array.from({ length: batch }, (_, i) => ({
      key: `k${(written + i).toString().padStart(12, "0")}`,
      value: value(randomBytes(75)),
      position: "1",
    }));
    written += batch;
    yield encodeLines(lines);
  }
  yield encodeLines([trailer(rows)]);
}

/**
 * This process's peak RSS: VmHWM, the high-water mark of its own address space (getrusage's maxrss would not do: on
 * Linux it survives execve, so a child forked from a large parent starts with the parent's peak).
 */
async function peakRss(): Promise<number> {
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : process.resourceUsage().maxRSS * 1024;
}

async function main() {
  const [phase, dir] = process.argv.slice(2);
  const megabytes = Number(process.env.BENCH_MEMORY_MB ?? 1024);
  const a = new FileBlobStore("cn-hangzhou", path.join(dir, "a"));
  const b = new FileBlobStore("cn-beijing", path.join(dir, "b"));
  const started = performance.now();
  let bytes = 0;
  if (phase === "backup") {
    const manifest = await a.writeBackup(MEMORY_BACKUP_ID, backupStream(megabytes * MB));
    await copyBackup(a, b, MEMORY_BACKUP_ID);
    bytes = manifest.sizeBytes;
  } else if (phase === "restore") {
    const signal = new AbortController().signal;
    const steps = [{ order: 1, backupId: MEMORY_BACKUP_ID, action: "LOAD_DATA" as const }];
    const staging = await ChunkStaging.open(path.join(dir, "staging"), MEMORY_BACKUP_ID, MEMORY_BACKUP_ID);
    try {
      await fetchChain(
        b,
        staging,
        steps,
        (id) => id,
        signal,
        async () => {},
      );
      const opened = await openBackup(stagedChain(staging, steps, signal).data, ["COMPLETE"]);
      let rows = 0;
      for await (const _ of opened.entries) rows++;
      bytes = (await b.readManifest(MEMORY_BACKUP_ID))!.sizeBytes;
      if (rows === 0) throw new Error("the restore read no rows");
    } finally {
      await staging.remove();
    }
  } else if (phase !== "idle") {
    throw new Error(`unknown phase ${phase}`);
  }
  console.log(
    JSON.stringify({ phase, bytes, seconds: (performance.now() - started) / 1000, peakRss: await peakRss() }),
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
