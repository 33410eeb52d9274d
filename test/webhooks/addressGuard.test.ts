// The SSRF guard's address ranges and the signature scheme (the receiver-side verify of the README).
import { describe, expect, it } from "vitest";
import { isRefusedAddress, urlProblem } from "../../src/webhooks/addressGuard.ts";
import { sign, verify } from "../../src/webhooks/signature.ts";

describe("isRefusedAddress", () => {
  it.each([
    "127.0.0.1",
    "127.9.9.9",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.100.100.200",
    "0.0.0.0",
    "::1",
    "::",
    "fe80::1",
    "fd00:ec2::254",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:a9fe:a9fe",
    "64:ff9b::10.0.0.1",
    "224.0.0.1",
    "not-an-ip",
  ])("refuses %s", (address) => {
    expect(isRefusedAddress(address)).toBe(true);
  });

  it.each(["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("allows %s", (address) => {
    expect(isRefusedAddress(address)).toBe(false);
  });

  it("checks the URL's form", () => {
    expect(urlProblem("https://example.com/x")).toBeNull();
    expect(urlProblem("file:///etc/passwd")).toMatch(/http/);
    expect(urlProblem("https://a:b@example.com")).toMatch(/credentials/);
  });
});

describe("signature", () => {
  it("verifies its own signature and refuses a changed body, another secret or an old timestamp", () => {
    const now = 1_800_000_000;
    const header = sign("whsec_x", now, '{"id":"1"}');
    expect(verify("whsec_x", { timestamp: String(now), signature: header }, '{"id":"1"}', 300, now)).toBe(true);
    expect(verify("whsec_x", { timestamp: String(now), signature: header }, '{"id":"2"}', 300, now)).toBe(false);
    expect(verify("whsec_y", { timestamp: String(now), signature: header }, '{"id":"1"}', 300, now)).toBe(false);
    expect(verify("whsec_x", { timestamp: String(now), signature: header }, '{"id":"1"}', 300, now + 301)).toBe(false);
  });
});
