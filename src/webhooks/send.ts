// One webhook attempt: a POST to the address the SSRF guard just checked (the connection goes to that address, so a
// DNS answer that changes between the check and the connect can't redirect it), bounded in time and in the bytes
// read back, redirects not followed.

import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { type CheckedAddress, RefusedAddress, resolveReceiver } from "./addressGuard.ts";

/** At most this much of a receiver's answer is read; the rest is dropped with the connection. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export type SendOptions = { timeoutMs: number; allowPrivateNetworks: boolean };
export type SendResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

/** Resolves `hostname` to the checked address only (both lookup signatures Node uses). */
function pinnedLookup(checked: CheckedAddress): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: checked.address, family: checked.family }]);
    else callback(null, checked.address, checked.family);
  }) as LookupFunction;
}

export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: SendOptions,
): Promise<SendResult> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  let checked: CheckedAddress;
  try {
    checked = await resolveReceiver(url, options.allowPrivateNetworks);
  } catch (error) {
    if (error instanceof RefusedAddress) return { ok: false, status: null, error: error.message };
    throw error;
  }
  const target = new URL(url);
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      deadline.removeEventListener("abort", onTimeout);
      req.destroy();
      resolve(result);
    };
    const req = request(target, {
      method: "POST",
      lookup: pinnedLookup(checked),
      headers: {
        ...headers,
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body)),
        "user-agent": "mirror-vault-gateway-webhooks",
      },
      agent: false,
    });
    const onTimeout = () =>
      finish({ ok: false, status: null, error: `no complete answer within ${options.timeoutMs} ms` });
    deadline.addEventListener("abort", onTimeout);
    req.on("error", (error: NodeJS.ErrnoException) => finish({ ok: false, status: null, error: describe(error) }));
    req.on("response", (response) => {
      const status = response.statusCode ?? 0;
      let read = 0;
      const done = () => {
        if (status >= 200 && status < 300) finish({ ok: true, status });
        else if (status >= 300 && status < 400)
          finish({ ok: false, status, error: `HTTP ${status}: redirects are not followed` });
        else finish({ ok: false, status, error: `HTTP ${status}` });
      };
      response.on("data", (chunk: Buffer) => {
        read += chunk.length;
        // The status is known; a huge answer is not worth reading to its end.
        if (read > MAX_RESPONSE_BYTES) done();
      });
      response.on("end", done);
      response.on("error", (error: NodeJS.ErrnoException) => {
        finish({ ok: false, status, error: describe(error) });
      });
      response.on("aborted", () => finish({ ok: false, status, error: "the receiver closed the connection" }));
    });
    req.end(body);
  });
}

function describe(error: NodeJS.ErrnoException): string {
  if (error.code === "ECONNREFUSED") return "connection refused";
  if (error.code === "ECONNRESET") return "the receiver closed the connection";
  if (error.code === "ENOTFOUND") return "the host does not resolve";
  return error.code ? `${error.code}: ${error.message}` : error.message;
}
