import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { config, parseConfig } from "../../src/config.ts";
import { StartupError } from "../../src/db/reachable.ts";
import { checkStorage } from "../../src/runtime.ts";
import { RegionalStorage } from "../../src/storage/regionalStorage.ts";
import { checkRegionalStorage, StorageCheckError } from "../../src/storage/storageCheck.ts";
import type { RegionStorageSpec, S3StorageSpec } from "../../src/storage/storageConfig.ts";
import { tempDir } from "./helpers.ts";
import { s3Harness } from "./storeHarness.ts";

const s3 = s3Harness();
const SECRET = "never-print-this-secret";
let bucket = "";
let silent: Server;

beforeAll(async () => {
  bucket = ((await s3.make()) as unknown as { bucket: string }).bucket;
  // Accepts connections and never answers.
  silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await s3.close();
  silent.close();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function check(spec: Partial<S3StorageSpec>, timeoutMs?: number): Promise<string> {
  const full: RegionStorageSpec = {
    ...s3.spec(bucket),
    secretAccessKey: SECRET,
    ...spec,
    kind: "s3",
    variable: "STORAGE_CN_HANGZHOU",
  };
  const storage = new RegionalStorage(await tempDir(), { specs: new Map([["cn-hangzhou", full]]) });
  try {
    await checkRegionalStorage(storage, ["cn-hangzhou", "cn-shanghai"], { timeoutMs });
    return "ok";
  } catch (error) {
    expect(error).toBeInstanceOf(StorageCheckError);
    const message = (error as Error).message;
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain("\n");
    return message;
  } finally {
    storage.close();
  }
}

describe("checkRegionalStorage", () => {
  it("passes for a reachable bucket and the default file stores", async () => {
    expect(await check({})).toBe("ok");
  });

  it("an unreachable endpoint: one line naming the variable and the region", async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    expect(await check({ endpoint })).toBe(
      `STORAGE_CN_HANGZHOU: region cn-hangzhou: bucket "${bucket}" prefix "vault/" at ${endpoint} is unreachable (ECONNREFUSED)`,
    );
  });

  it("an endpoint that never answers fails within the bound", async () => {
    const { port } = silent.address() as { port: number };
    const started = Date.now();
    expect(await check({ endpoint: `http://127.0.0.1:${port}` }, 1000)).toMatch(
      /^STORAGE_CN_HANGZHOU: region cn-hangzhou: .* did not answer within 1000 ms$/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a missing bucket", async () => {
    expect(await check({ bucket: "no-such-bucket" })).toMatch(
      /^STORAGE_CN_HANGZHOU: region cn-hangzhou: bucket "no-such-bucket" .* does not exist \(no such bucket\)$/,
    );
  });

  // s3rver checks the access key id but not the SigV4 signature, so a wrong secret can't be tested here.
  it("wrong credentials (an unknown access key id)", async () => {
    expect(await check({ accessKeyId: "WRONGKEY" })).toMatch(
      /^STORAGE_CN_HANGZHOU: region cn-hangzhou: .* rejected the credentials \(HTTP 403\)$/,
    );
  });

  it("a file store that can't be created names STORAGE_DIR", async () => {
    const blocker = join(await tempDir(), "a-file");
    await writeFile(blocker, "");
    const storage = new RegionalStorage(join(blocker, "data"));
    const error = await checkRegionalStorage(storage, ["cn-beijing"]).catch((e) => e);
    expect(error).toBeInstanceOf(StorageCheckError);
    expect(error.message).toMatch(
      /^STORAGE_DIR \(STORAGE_CN_BEIJING unset\): region cn-beijing: directory \/.* cannot be created or written \(ENOTDIR\)$/,
    );
  });

  it("at start-up (src/runtime.ts): a StartupError line for a failing STORAGE_<REGION>", async () => {
    // Malformed values are refused by the configuration schema already (test/storage/storageConfig.test.ts).
    const withStore = async (value: string) => ({
      ...config,
      storageDir: await tempDir(),
      storageSpecs: parseConfig({ STORAGE_CN_SHANGHAI: value }).storageSpecs,
    });
    const regions = ["cn-hangzhou", "cn-shanghai"];
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const down = await checkStorage(
      await withStore(`s3://S3RVER:${SECRET}@${bucket}?endpoint=${endpoint}`),
      regions,
    ).catch((e) => e);
    expect(down).toBeInstanceOf(StartupError);
    expect(down.message).toMatch(/^STORAGE_CN_SHANGHAI: region cn-shanghai: .* is unreachable \(ECONNREFUSED\)$/);
    expect(down.message).not.toContain(SECRET);
    const up = await withStore(`s3://S3RVER:${SECRET}@${bucket}/rt?endpoint=${s3.server().endpoint}`);
    await expect(checkStorage(up, regions)).resolves.toBeUndefined();
  });
});
