import { describe, expect, it } from "vitest";
import {
  describeStorage,
  parseStorageUrl,
  regionStorageSpecs,
  StorageConfigError,
  storageVariable,
} from "../../src/storage/storageConfig.ts";

const V = "STORAGE_CN_HANGZHOU";

function failure(value: string): StorageConfigError {
  try {
    parseStorageUrl(V, value);
  } catch (error) {
    return error as StorageConfigError;
  }
  throw new Error(`accepted ${value}`);
}

describe("storage configuration", () => {
  it("names the variable after the region id", () => {
    expect(storageVariable("cn-hangzhou")).toBe("STORAGE_CN_HANGZHOU");
    expect(storageVariable("ap-southeast-1")).toBe("STORAGE_AP_SOUTHEAST_1");
  });

  it("parses an s3 URL with URL-encoded credentials, a prefix and the endpoint options", () => {
    const spec = parseStorageUrl(
      V,
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
    expect(describeStorage(spec)).toBe('bucket "my-bucket" prefix "hana/prod/" at http://127.0.0.1:9000');
    expect(describeStorage(spec)).not.toContain("se/cr");
  });

  it("defaults: no prefix, us-east-1, path style only with a custom endpoint", () => {
    expect(parseStorageUrl(V, "s3://a:b@bucket-1")).toMatchObject({
      prefix: "",
      endpoint: undefined,
      region: "us-east-1",
      forcePathStyle: false,
    });
    expect(parseStorageUrl(V, "s3://a:b@bucket-1?endpoint=https://s3.example.test")).toMatchObject({
      forcePathStyle: true,
    });
    expect(parseStorageUrl(V, "s3://a:b@bucket-1?endpoint=https://oss.test&forcePathStyle=false")).toMatchObject({
      forcePathStyle: false,
    });
  });

  it("parses a file URL", () => {
    expect(parseStorageUrl(V, "file:///srv/mvg/hangzhou/")).toEqual({ kind: "file", dir: "/srv/mvg/hangzhou" });
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
    const error = failure(value);
    expect(error).toBeInstanceOf(StorageConfigError);
    expect(error.message.startsWith(`${V}: `)).toBe(true);
    expect(error.message).toContain(why);
    expect(error.message).not.toContain("topsecret");
    expect(error.message).not.toContain("top%ZZsecret");
  });

  it("builds specs for the regions whose variable is set", () => {
    const specs = regionStorageSpecs(["cn-hangzhou", "cn-shanghai", "cn-beijing"], {
      STORAGE_CN_HANGZHOU: "s3://a:b@bucket-a/x?endpoint=http://127.0.0.1:9000",
      STORAGE_CN_SHANGHAI: "file:///data/sh",
      STORAGE_CN_BEIJING: "  ",
      STORAGE_DIR: "/ignored",
      STORAGE_GC_MIN_AGE_MS: "0",
    });
    expect([...specs.keys()]).toEqual(["cn-hangzhou", "cn-shanghai"]);
    expect(specs.get("cn-hangzhou")).toMatchObject({ kind: "s3", variable: "STORAGE_CN_HANGZHOU", prefix: "x/" });
    expect(specs.get("cn-shanghai")).toEqual({ kind: "file", dir: "/data/sh", variable: "STORAGE_CN_SHANGHAI" });
    expect(() => regionStorageSpecs(["cn-hangzhou"], { STORAGE_CN_HANGZHOU: "s3://x" })).toThrow(
      /^STORAGE_CN_HANGZHOU: /,
    );
  });
});
