// The boundary check (.dependency-cruiser.cjs, run by `npm test`) must fail on each kind of crossing it guards.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
let dir: string;

/** A tiny tree that crosses every seam once (file → its imports). */
const tree: Record<string, string> = {
  "src/api/ids.ts": "export const id = 1;\n",
  "src/schema/vault.ts": "export const vault = 1;\n",
  "src/services.ts": 'import { createDb } from "./db/client.ts";\nexport const services = createDb;\n',
  "src/db/client.ts": "export const createDb = () => 1;\n",
  "src/events/redisEventBus.ts": "export const createRedisEventBus = () => 1;\n",
  "src/domain/ports.ts": "export type Ports = {};\n",
  "src/domain/usesApi.ts": 'import { id } from "../api/ids.ts";\nexport const x = id;\n',
  "src/domain/usesYoga.ts": 'import { createYoga } from "graphql-yoga";\nexport const y = createYoga;\n',
  "src/domain/buildsBus.ts":
    'import { createRedisEventBus } from "../events/redisEventBus.ts";\nexport const b = createRedisEventBus;\n',
  "src/domain/usesRedis.ts": 'import { Redis } from "ioredis";\nexport const r = Redis;\n',
  "jobs/usesSchema.ts": 'import { vault } from "../src/schema/vault.ts";\nexport const v = vault;\n',
  "src/hana/usesDomain.ts": 'import type { Ports } from "../domain/ports.ts";\nexport type P = Ports;\n',
  "src/storage/usesDomain.ts": 'import type { Ports } from "../domain/ports.ts";\nexport type P = Ports;\n',
};

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "mvg-boundaries-"));
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { allowImportingTsExtensions: true } }),
  );
  for (const [file, text] of Object.entries(tree)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the boundary check", () => {
  it("fails on the domain importing the API or Yoga, a backend built outside the root, jobs importing the API, and leaves importing the domain", async () => {
    const bin = path.join(root, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");
    const config = path.join(root, ".dependency-cruiser.cjs");
    const run = await promisify(execFile)(
      process.execPath,
      [bin, "src", "jobs", "--config", config, "--output-type", "json"],
      { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stdout: string }) => error);
    const violations = JSON.parse(run.stdout).summary.violations as { from: string; rule: { name: string } }[];
    const found = violations.map((v) => `${v.rule.name} ${v.from}`).sort();
    expect(found).toEqual(
      [
        "backends-are-leaves src/hana/usesDomain.ts",
        "backends-are-leaves src/storage/usesDomain.ts",
        "domain-is-plain src/domain/usesApi.ts",
        "domain-is-plain src/domain/usesYoga.ts",
        "drivers-only-in-backends src/domain/usesRedis.ts",
        "jobs-never-import-the-api jobs/usesSchema.ts",
        "only-the-composition-root-constructs-backends src/domain/buildsBus.ts",
      ].sort(),
    );
  });
});
