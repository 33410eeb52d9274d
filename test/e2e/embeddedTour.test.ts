// The embedded default: on a machine where nothing listens on 5432 or 6379, `npm start` serves the whole product
// and the README's tour ends in a validated restore. The test runs the tour in a network namespace of its own
// (`unshare --net`), so any part still reaching for an external PostgreSQL or Redis fails it.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

describe("embedded default", () => {
  it("npm start with DATABASE_URL and REDIS_URL unset serves the tour, in a namespace with no external services", async () => {
    const script = "ip link set lo up && exec node --import tsx test/e2e/embeddedTour.main.ts";
    const { stdout } = await promisify(execFile)("unshare", ["--net", "--fork", "--", "bash", "-c", script], {
      cwd: root,
      timeout: 280_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
    expect(line, stdout).toBeDefined();
    const result = JSON.parse(line!.slice("RESULT ".length));
    expect(result.external).toEqual({ postgres: false, redis: false });
    expect(result.error).toBeNull();
    // The first log line says which backends run.
    expect(result.logs[0]).toMatch(/embedded PostgreSQL/);
    expect(result.logs[0]).toMatch(/queues: BullMQ on PostgreSQL/);
    expect(result.tour.backupTypes).toEqual(["COMPLETE", "LOG", "DIFFERENTIAL", "LOG"]);
    expect(result.tour.historicalSyncStatus).toBe("COMPLETED");
    expect(result.tour.restore).toMatchObject({ status: "COMPLETE", validation: { status: "SUCCESSFUL" } });
    expect(result.tour.restore.reachedLogPosition).toBe(result.tour.sourceLast.logPosition);
    expect(result.tour.targetDigest).toBe(result.tour.sourceLast.contentDigest);
    // SIGTERM stops it cleanly: it stops serving and its embedded PostgreSQL is shut down.
    expect(result.logs).toContain("SIGTERM: stopping (new work refused, running work finishing)");
    expect(result.logs.at(-1)).toBe("stopped");
    expect(result.stopped).toBe(true);
  }, 300_000);
});
