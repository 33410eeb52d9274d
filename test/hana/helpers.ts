// Shared helpers for the HANA simulator tests.
import { randomUUID } from "node:crypto";
import type { HanaEndpoint } from "../../src/hana/connector.ts";

export function endpoint(overrides: Partial<HanaEndpoint> = {}): HanaEndpoint {
  return {
    instanceId: randomUUID(),
    sid: "HDB",
    instanceNumber: "00",
    host: "10.0.0.12",
    userName: "SYSTEM",
    password: "Secret-1",
    useSsl: false,
    validateCertificate: false,
    ...overrides,
  };
}

/** Reads a whole stream into one buffer. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Serves stored bytes again as a stream, re-cut into chunks of `size` bytes (to test chunk boundaries). */
export async function* replay(bytes: Uint8Array, size = 65_536): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

/** Parses NDJSON bytes into objects. */
export function parseNdjson(bytes: Uint8Array): Record<string, unknown>[] {
  return Buffer.from(bytes)
    .toString("utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
