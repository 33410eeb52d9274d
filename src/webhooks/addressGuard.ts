// The SSRF guard: a webhook URL is http(s) with no credentials, and its host resolves only to public addresses
// (no loopback, private, link-local, metadata or other special-use ranges) unless the operator allows them.
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

export const MAX_URL_LENGTH = 2048;

/** Special-use ranges a receiver may not be in (RFC 6890 and friends); metadata endpoints are link-local/CGNAT. */
const refused = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT; Alibaba Cloud's metadata is 100.100.100.200
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local; AWS, GCP and Azure metadata at 169.254.169.254
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  refused.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7], // unique local, incl. AWS's IPv6 metadata fd00:ec2::254
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  refused.addSubnet(net, bits, "ipv6");
}

/** An IPv4 address carried inside IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d), else null. */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return null;
  const [high, low] = [Number.parseInt(hex[1], 16), Number.parseInt(hex[2], 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** True for an address a webhook may not reach without WEBHOOK_ALLOW_PRIVATE_NETWORKS. */
export function isRefusedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return refused.check(address, "ipv4");
  if (family !== 6) return true;
  const v4 = embeddedIpv4(address);
  if (v4) return refused.check(v4, "ipv4");
  return refused.check(address, "ipv6");
}

/** What is wrong with the URL's form (scheme, length, credentials), or null. */
export function urlProblem(raw: string): string | null {
  if (raw.length > MAX_URL_LENGTH) return `the URL is longer than ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not a valid URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "the URL must be http:// or https://";
  if (url.username || url.password) return "the URL must not carry credentials (user:password@)";
  if (!url.hostname) return "the URL has no host";
  return null;
}

export class RefusedAddress extends Error {
  override name = "RefusedAddress";
}

export type CheckedAddress = { address: string; family: 4 | 6 };

/**
 * Resolves the URL's host and returns the address to connect to; RefusedAddress when it does not resolve, or when
 * any address it resolves to is refused (one private answer among public ones is enough for a rebinding trick).
 */
export async function resolveReceiver(raw: string, allowPrivateNetworks: boolean): Promise<CheckedAddress> {
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, "");
  let answers: { address: string; family: number }[];
  if (isIP(host)) answers = [{ address: host, family: isIP(host) }];
  else {
    try {
      answers = await lookup(host, { all: true, verbatim: true });
    } catch {
      throw new RefusedAddress(`the host ${host} does not resolve`);
    }
  }
  if (!answers.length) throw new RefusedAddress(`the host ${host} does not resolve`);
  if (!allowPrivateNetworks) {
    const bad = answers.find((answer) => isRefusedAddress(answer.address));
    if (bad) {
      throw new RefusedAddress(
        `the host ${host} resolves to ${bad.address}, a loopback, private, link-local or metadata address ` +
          "(refused unless the operator sets WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)",
      );
    }
  }
  const first = answers[0];
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
