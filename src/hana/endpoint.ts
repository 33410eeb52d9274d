// The simulator's connection rules, so the instance status flows (INITIALIZED / INVALID_HANA_NODE /
// INITIALIZE_FAILED) can be exercised without a real cluster. Checked in this order:
//   1. instanceNumber is not two digits 00..97                       → INITIALIZE_FAILED
//   2. host is not a plausible host name / IPv4 / IPv6 address, or
//      starts with "unreachable" (any case)                          → INITIALIZE_FAILED "cannot reach host … port 3<NN>13"
//   3. host starts with "invalid" (any case)                         → INVALID_HANA_NODE "… is not an SAP HANA node"
//   4. empty userName or password                                    → INITIALIZE_FAILED "authentication failed …"
// Anything else connects.
import { HanaConnectError, type HanaEndpoint } from "./connector.ts";

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-f:]+$/i;

export function isPlausibleHost(host: string): boolean {
  if (IPV4.test(host)) return true;
  if (host.includes(":")) return IPV6.test(host) && host.split(":").length >= 3 && host.split(":").length <= 8;
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.replace(/\.$/, "").split(".");
  if (labels.every((label) => /^\d+$/.test(label))) return false; // looks numeric but is not a valid IPv4
  return labels.every((label) => HOST_LABEL.test(label));
}

export function sqlPort(instanceNumber: string): string {
  return `3${instanceNumber}13`;
}

/** Throws the `HanaConnectError` the simulated cluster answers for this endpoint, if any. */
export function checkEndpoint(endpoint: HanaEndpoint): void {
  const { instanceNumber } = endpoint;
  const host = endpoint.host.trim();
  if (!/^\d{2}$/.test(instanceNumber) || Number(instanceNumber) > 97) {
    throw new HanaConnectError(
      "INITIALIZE_FAILED",
      `instance number ${JSON.stringify(instanceNumber)} is not two digits 00..97`,
    );
  }
  const port = sqlPort(instanceNumber);
  if (!isPlausibleHost(host) || /^unreachable/i.test(host)) {
    throw new HanaConnectError("INITIALIZE_FAILED", `cannot reach host ${host} port ${port}: connection timed out`);
  }
  if (/^invalid/i.test(host)) {
    throw new HanaConnectError(
      "INVALID_HANA_NODE",
      `${host}:${port} answered, but it is not an SAP HANA node (no SYSTEMDB for SID ${endpoint.sid})`,
    );
  }
  if (endpoint.userName.trim() === "" || endpoint.password === "") {
    throw new HanaConnectError(
      "INITIALIZE_FAILED",
      `authentication failed for user ${JSON.stringify(endpoint.userName)} on ${host}:${port}`,
    );
  }
}
