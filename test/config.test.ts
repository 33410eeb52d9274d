// One schema parses the whole configuration at start: a bad value is one line naming the variable, production
// refuses the development admin key and secret.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  CONFIG_VARIABLE_PATTERNS,
  CONFIG_VARIABLES,
  ConfigError,
  DEVELOPMENT_ADMIN_API_KEY,
  parseConfig,
} from "../src/config.ts";

const root = path.resolve(import.meta.dirname, "..");

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("accepted");
}

describe("configuration", () => {
  it("defaults serve a local machine", () => {
    const config = parseConfig({});
    expect(config.port).toBe(4000);
    expect(config.regions.map((r) => r.id)).toContain("cn-hangzhou");
    expect(config.workerRegions).toBeUndefined();
    expect(config.workerConcurrency).toEqual({ hana: 4, backup: 4, sync: 16, restore: 2, maintenance: 1 });
    expect(config.secretKey).toHaveLength(32);
    expect(config).not.toHaveProperty("secret");
  });

  it("reads every kind of value", () => {
    const config = parseConfig({
      PORT: " 8080 ",
      WORKER_REGIONS: "none",
      REGIONS: "cn-hangzhou,xx-test=Test",
      SYNC_CONCURRENCY: "3",
      DATABASE_URL: "postgresql://u:p@db:5432/mvg",
      LEASE_MS: "",
    });
    expect(config.port).toBe(8080);
    expect(config.workerRegions).toEqual([]);
    expect(config.regions).toEqual([
      { id: "cn-hangzhou", name: "China (Hangzhou)" },
      { id: "xx-test", name: "Test" },
    ]);
    expect(config.workerConcurrency.sync).toBe(3);
    expect(config.leaseMs).toBe(30_000);
    expect(parseConfig({ WORKER_REGIONS: "cn-beijing, cn-shenzhen" }).workerRegions).toEqual([
      "cn-beijing",
      "cn-shenzhen",
    ]);
  });

  it("a bad value is refused with one line naming the variable", () => {
    expect(refusal({ PORT: "1.5" })).toBe('PORT: must be a whole number from 0 to 65535 (got "1.5")');
    expect(refusal({ PORT: "70000" })).toMatch(/^PORT: /);
    expect(refusal({ LEASE_MS: "-1" })).toMatch(/^LEASE_MS: must be a whole number of at least 1/);
    expect(refusal({ SYNC_CONCURRENCY: "0" })).toMatch(/^SYNC_CONCURRENCY: /);
    expect(refusal({ HISTORICAL_SYNC_DELAY_MS: "soon" })).toMatch(/^HISTORICAL_SYNC_DELAY_MS: /);
    expect(refusal({ REGIONS: "Hangzhou City" })).toMatch(/^REGIONS: /);
    expect(refusal({ COPY_BANDWIDTH_NOWHERE__CN_HANGZHOU: "5" })).toMatch(/^COPY_BANDWIDTH_NOWHERE__CN_HANGZHOU: /);
    for (const message of [refusal({ PORT: "x" }), refusal({ LEASE_MS: "1e3" })]) {
      expect(message.split("\n")).toHaveLength(1);
    }
  });

  it("every variable is checked: a value of the wrong kind is refused naming it (free text aside)", () => {
    // Free text: keys, folders, prefixes and lists of names (REGIONS' and WORKER_REGIONS' words are checked below).
    const freeText = ["ADMIN_API_KEY", "SECRET_KEY", "STORAGE_DIR", "RESTORE_STAGING_DIR", "QUEUE_PREFIX"];
    const lists = ["CORS_ORIGINS", "WORKER_REGIONS"];
    for (const name of CONFIG_VARIABLES.filter((n) => !freeText.includes(n) && !lists.includes(n))) {
      expect(refusal({ [name]: "1.5 x" }), name).toMatch(new RegExp(`^${name}: `));
    }
    // The per-region variables, one of each pattern (names follow REGIONS).
    const perRegion = {
      "STORAGE_<REGION>": "STORAGE_CN_SHANGHAI",
      "COPY_BANDWIDTH_<FROM>__<TO>": "COPY_BANDWIDTH_CN_HANGZHOU__CN_SHANGHAI",
    };
    expect(Object.keys(perRegion)).toEqual(CONFIG_VARIABLE_PATTERNS);
    for (const name of Object.values(perRegion)) {
      expect(refusal({ [name]: "1.5 x" }), name).toMatch(new RegExp(`^${name}: `));
    }
    expect(refusal({ LOG_LEVEL: "verbose" })).toBe(
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    );
    expect(parseConfig({ LOG_LEVEL: " DEBUG " }).logLevel).toBe("debug");
    // A typo of production would otherwise run with the development key and secret without a word.
    expect(refusal({ NODE_ENV: "prod" })).toMatch(/^NODE_ENV: must be one of development, production, test/);
    expect(refusal({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: "maybe" })).toMatch(/^WEBHOOK_ALLOW_PRIVATE_NETWORKS: /);
    expect(parseConfig({ WEBHOOK_TIMEOUT_MS: "2500" }).webhooks.timeoutMs).toBe(2500);
  });

  it("README's configuration table names every variable", () => {
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    const all = [...CONFIG_VARIABLES, ...CONFIG_VARIABLE_PATTERNS];
    expect(all.filter((name) => !readme.includes(`| \`${name}\``))).toEqual([]);
  });

  it("a URL is checked without echoing it (it may carry a password)", () => {
    const message = refusal({ DATABASE_URL: "mysql://root:hunter2@db/mvg" });
    expect(message).toMatch(/^DATABASE_URL: must be a postgresql: or postgres: URL/);
    expect(message).not.toContain("hunter2");
    expect(refusal({ REDIS_URL: "hunter2" })).not.toContain("hunter2");
    // A region's store: the s3:// URL carries the access key and the secret.
    // An unencoded "/" or "?" in the secret ends the host early: the bucket check must not echo the key as a bucket.
    const values = ["s3://AKIDHUNTER:hunter2@Bad_Bucket", "s3://AKIDHUNTER:hunter2@bucket?bad=1", "hunter2"];
    for (const value of [...values, "s3://AKIDHUNTER:2024/hunter2@bucket", "s3://AKIDHUNTER:2024?hunter2@bucket"]) {
      const storage = refusal({ STORAGE_CN_HANGZHOU: value });
      expect(storage).toMatch(/^STORAGE_CN_HANGZHOU: /);
      expect(storage).not.toMatch(/hunter2|AKIDHUNTER/);
    }
  });

  it("reads the default and per-pair limits from the environment, refusing unknown regions", () => {
    const REGIONS = "cn-hangzhou,eu-central-1";
    const copyBandwidth = (env: NodeJS.ProcessEnv) => parseConfig({ REGIONS, ...env }).copyBandwidth;
    expect(copyBandwidth({})).toEqual({ defaultBytesPerSecond: null, perPair: {} });
    expect(
      copyBandwidth({
        COPY_BANDWIDTH_LIMIT: "1000",
        COPY_BANDWIDTH_CN_HANGZHOU__EU_CENTRAL_1: "500",
        COPY_BANDWIDTH_EU_CENTRAL_1__CN_HANGZHOU: "0",
        COPY_BANDWIDTH_CN_HANGZHOU__CN_HANGZHOU: " ",
      }),
    ).toEqual({
      defaultBytesPerSecond: 1000,
      perPair: { "cn-hangzhou>eu-central-1": 500, "eu-central-1>cn-hangzhou": null },
    });
    expect(() => copyBandwidth({ COPY_BANDWIDTH_CN_HANGZHO__EU_CENTRAL_1: "5" })).toThrow(
      /^COPY_BANDWIDTH_CN_HANGZHO__EU_CENTRAL_1: expected COPY_BANDWIDTH_<FROM>__<TO> of configured regions/,
    );
    expect(() => copyBandwidth({ COPY_BANDWIDTH_LIMIT: "-1" })).toThrow(/^COPY_BANDWIDTH_LIMIT: /);
    expect(() => copyBandwidth({ COPY_BANDWIDTH_CN_HANGZHOU__EU_CENTRAL_1: "5 MB" })).toThrow(
      /^COPY_BANDWIDTH_CN_HANGZHOU__EU_CENTRAL_1: must be a whole number/,
    );
  });

  it("NODE_ENV=production refuses the development admin key and secret", () => {
    expect(refusal({ NODE_ENV: "production", SECRET_KEY: "s3cret-of-this-deployment" })).toBe(
      "ADMIN_API_KEY: set your own key (NODE_ENV=production)",
    );
    expect(refusal({ NODE_ENV: "production", ADMIN_API_KEY: DEVELOPMENT_ADMIN_API_KEY, SECRET_KEY: "x" })).toMatch(
      /^ADMIN_API_KEY: /,
    );
    expect(refusal({ NODE_ENV: "production", ADMIN_API_KEY: "k-of-this-deployment" })).toBe(
      "SECRET_KEY: set your own secret (NODE_ENV=production)",
    );
    expect(parseConfig({ NODE_ENV: "production", ADMIN_API_KEY: "k", SECRET_KEY: "s" }).nodeEnv).toBe("production");
    // Outside production the development values serve a laptop.
    expect(parseConfig({}).adminApiKey).toBe(DEVELOPMENT_ADMIN_API_KEY);
  });

  it("`npm start` with PORT=1.5 exits 1 with one line naming PORT, before starting anything", async () => {
    const child = spawn("npm", ["start"], {
      cwd: root,
      env: { ...process.env, PORT: "1.5", DATABASE_URL: "", REDIS_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const code = await new Promise((resolve) => child.once("exit", resolve));
    const lines = output.split("\n").filter((l) => l.trim() && !l.startsWith("npm ") && !l.startsWith(">"));
    expect(code).toBe(1);
    expect(lines).toEqual(['PORT: must be a whole number from 0 to 65535 (got "1.5")']);
  }, 180_000); // tsx starting on a loaded machine
});
