import { describe, expect, it } from "vitest";
import { createBandwidth } from "../../src/storage/bandwidth.ts";
import { copyBackup } from "../../src/storage/copyBackup.ts";
import { RegionalStorage } from "../../src/storage/regionalStorage.ts";
import { collect, KiB, pieces, random, tempDir } from "./helpers.ts";

const MiB = 1024 * KiB;

describe("bandwidth (per region pair, per process)", () => {
  it("two copies of one pair share its rate; another pair has its own", async () => {
    const storage = new RegionalStorage(await tempDir(), { chunkSize: 256 * KiB });
    const from = storage.region("cn-hangzhou");
    await from.writeBackup("a", pieces(random(2 * MiB)));
    await from.writeBackup("b", pieces(random(2 * MiB)));
    const bandwidth = createBandwidth();
    const throttle = (to: string) => bandwidth.throttle("cn-hangzhou", to, 4 * MiB);

    // 4 MiB through one 4 MiB/s pair: about 1 s together, not 0.5 s each in parallel.
    let started = performance.now();
    await Promise.all([
      copyBackup(from, storage.region("cn-beijing"), "a", { throttle: throttle("cn-beijing") }),
      copyBackup(from, storage.region("cn-beijing"), "b", { throttle: throttle("cn-beijing") }),
    ]);
    const sharedMs = performance.now() - started;

    // The same 4 MiB over two pairs: each pair has its own 4 MiB/s.
    started = performance.now();
    await Promise.all([
      copyBackup(from, storage.region("cn-shanghai"), "a", { throttle: throttle("cn-shanghai") }),
      copyBackup(from, storage.region("cn-shenzhen"), "b", { throttle: throttle("cn-shenzhen") }),
    ]);
    const separateMs = performance.now() - started;
    console.log(`bandwidth: 4 MiB on one pair ${Math.round(sharedMs)} ms, on two pairs ${Math.round(separateMs)} ms`);
    expect(sharedMs).toBeGreaterThanOrEqual(850);
    expect(separateMs).toBeGreaterThanOrEqual(350);
    expect(separateMs).toBeLessThan(sharedMs * 0.8);
  });

  it("unlimited passes the stream through untouched", async () => {
    const source = pieces(random(100 * KiB));
    const throttle = createBandwidth().throttle("cn-hangzhou", "cn-beijing", null);
    expect(throttle(source)).toBe(source);
    expect((await collect(throttle(pieces(Buffer.alloc(10))))).length).toBe(10);
  });
});
