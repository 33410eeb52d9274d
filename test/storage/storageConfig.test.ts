// STORAGE_<REGION>, read by the one configuration schema (src/config.ts, src/configRegional.ts).
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";
import { describeStorage, type S3StorageSpec, storageVariable } from "../../src/storage/storageConfig.ts";

const V = "STORAGE_CN_HANGZHOU";

/** The spec STORAGE_CN_HANGZHOU=`value` gives cn-hangzhou (without the variable it came from). */
function specOf(value: string) {
  const { variable, ...spec } = parseConfig({ [V]: value }).storageSpecs.get("cn-hangzhou") ?? {};
  expect(variable).toBe(V);
  return spec;
}

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

const failure = (value: string) => refusal({ [V]: value });

describe("storage configuration", () => {
  it("names the variable after the region id", () => {
    expect(storageVariable("cn-hangzhou")).toBe("STORAGE_CN_HANGZHOU");
    expect(storageVariable("ap-southeast-1")).toBe("STORAGE_AP_SOUTHEAST_1");
  });

  it("parses an s3 URL with URL-encoded credentials, a prefix and the endpoint options", () => {
    const spec = specOf(
      "s3://AKID:se%2Fcr%40et%3A@my-bucket/hana/prod/?endpoint=http://127.0.0.1:9000&region=eu-west-1&forcePathStyle=true",
    );
    expect(spec).toEqual({
      kind: "s3",
      bucket: "my-bucket",
      prefix: "hana/prod/",
      endpoint: "http://127.0.0.1:9000",
      region: "eu-west-1",
      forcePathStyle: true,
      accessKeyId: "AKID",
      secretAccessKey: "se/cr@et:",
    });
    expect(describeStorage(spec as S3StorageSpec)).toBe(
      'bucket "my-bucket" prefix "hana/prod/" at http://127.0.0.1:9000',
    );
    expect(describeStorage(spec as S3StorageSpec)).not.toContain("se/cr");
  });

  it("defaults: no prefix, us-east-1, path style only with a custom endpoint", () => {
    expect(specOf("s3://a:b@bucket-1")).toMatchObject({
      prefix: "",
      endpoint: undefined,
      region: "us-east-1",
      forcePathStyle: false,
    });
    expect(specOf("s3://a:b@bucket-1?endpoint=https://s3.example.test")).toMatchObject({
      forcePathStyle: true,
    });
    expect(specOf("s3://a:b@bucket-1?endpoint=https://oss.test&forcePathStyle=false")).toMatchObject({
      forcePathStyle: false,
    });
  });

  it("parses a file URL", () => {
    expect(specOf("file:///srv/mvg/hangzhou/")).toEqual({ kind: "file", dir: "/srv/mvg/hangzhou" });
  });

  it.each([
    ["not a url", "not a URL"],
    ["ftp://a:b@bucket", 'unsupported scheme "ftp:"'],
    ["s3://bucket-only", "credentials missing"],
    ["s3://AKID:topsecret@Bad_Bucket", "not a valid bucket name"],
    ["s3://AKID:topsecret@bucket:9000", "no port"],
    ["s3://AKID:topsecret@bucket?endpoint=localhost:9000", "is not an http(s) URL"],
    ["s3://AKID:topsecret@bucket?forcePathStyle=yes", "forcePathStyle must be true or false"],
    ["s3://AKID:topsecret@bucket?endpont=http://x", 'unknown parameter "endpont"'],
    ["s3://AKID:topsecret@bucket/a%2F..", ". or .."],
    ["s3://AKID:top%ZZsecret@bucket", "URL encoding"],
    ["file://host/dir", "no host"],
    ["file:///", "absolute directory"],
  ])("rejects %s with a message naming the variable, never the secret", (value, why) => {
    const message = failure(value);
    expect(message.startsWith(`${V}: `)).toBe(true);
    expect(message).not.toContain("\n");
    expect(message).toContain(why);
    expect(message).not.toContain("topsecret");
    expect(message).not.toContain("top%ZZsecret");
  });

  it("builds specs for the regions whose variable is set; a store under a name of no region stops the start", () => {
    const { storageSpecs } = parseConfig({
      STORAGE_CN_HANGZHOU: "s3://a:b@bucket-a/x?endpoint=http://127.0.0.1:9000",
      STORAGE_CN_SHANGHAI: "file:///data/sh",
      STORAGE_CN_BEIJING: "  ",
      STORAGE_DIR: "/ignored",
      STORAGE_GC_MIN_AGE_MS: "0",
      // Another program's variable: not a store's URL, none of ours.
      STORAGE_EMULATOR_HOST: "localhost:8080",
    });
    expect([...storageSpecs.keys()]).toEqual(["cn-hangzhou", "cn-shanghai"]);
    expect(storageSpecs.get("cn-hangzhou")).toMatchObject({
      kind: "s3",
      variable: "STORAGE_CN_HANGZHOU",
      prefix: "x/",
    });
    expect(storageSpecs.get("cn-shanghai")).toEqual({ kind: "file", dir: "/data/sh", variable: "STORAGE_CN_SHANGHAI" });
    expect(failure("s3://x")).toMatch(/^STORAGE_CN_HANGZHOU: /);
    // A typo of a region would leave it on the default store without a word.
    const typo = refusal({ STORAGE_CN_HANGZOU: "s3://AKID:topsecret@bucket-a" });
    expect(typo).toMatch(/^STORAGE_CN_HANGZOU: expected STORAGE_<REGION> of configured regions \(cn-hangzhou, /);
    expect(typo).not.toContain("topsecret");
    // Only the configured regions have a variable.
    expect(refusal({ REGIONS: "cn-beijing", STORAGE_CN_HANGZHOU: "file:///srv/h" })).toBe(
      "STORAGE_CN_HANGZHOU: expected STORAGE_<REGION> of configured regions (cn-beijing)",
    );
  });
});
