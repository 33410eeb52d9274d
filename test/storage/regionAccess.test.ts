// Region-isolated workers (R12): a worker process writes only the stores of the regions it serves and reads the
// others (the sources of its mirrors' copies); a write elsewhere fails instead of crossing regions.
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { copyBackup } from "../../src/storage/copyBackup.ts";
import { RegionAccessError, storesForWorkers } from "../../src/storage/regionAccess.ts";
import { RegionalStorage } from "../../src/storage/regionalStorage.ts";
import { pieces, tempDir } from "./helpers.ts";

describe("stores for a worker of region B", () => {
  it("R12: reads region A, copies A → B, and refuses every write to A", async () => {
    const all = new RegionalStorage(await tempDir());
    const backupId = randomUUID();
    const bytes = randomBytes(300_000);
    await all.region("cn-hangzhou").writeBackup(backupId, pieces(bytes));

    const stores = storesForWorkers(all, ["cn-shanghai"]);
    const a = stores.region("cn-hangzhou");
    const b = stores.region("cn-shanghai");
    expect(await a.readManifest(backupId)).not.toBeNull();
    await copyBackup(a, b, backupId);
    const copied: Buffer[] = [];
    for await (const part of b.readBackup(backupId)) copied.push(part);
    expect(Buffer.concat(copied).equals(bytes)).toBe(true);

    await expect(a.deleteBackup(backupId)).rejects.toThrow(RegionAccessError);
    await expect(a.writeBackup(randomUUID(), pieces(bytes))).rejects.toThrow(/this process serves only cn-shanghai/);
    await expect(a.collectGarbage({ minAgeMs: 0 })).rejects.toThrow(RegionAccessError);
    expect(await all.region("cn-hangzhou").readManifest(backupId)).not.toBeNull();
    // B's own store is the real one: it writes and deletes.
    await b.deleteBackup(backupId);
    expect(await b.readManifest(backupId)).toBeNull();
  });
});
