// The fault suite's row waits (rows.ts) honour their bound even when the row never changes: a mirror whose
// historical sync is 90 minutes out (the default delay) stays SCHEDULED, and the wait ends with an error naming it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSourceVault, uuidOf } from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { Rows } from "./rows.ts";

let gw: TestGateway;
let key: string;

beforeAll(async () => {
  gw = await startTestGateway("faults_rows");
  ({ apiKey: key } = await gw.createAccount("rows"));
});

afterAll(async () => {
  await gw?.close();
});

describe("Rows", () => {
  it("a wait on a row that never changes ends at its bound", async () => {
    const vault = await createSourceVault(gw, key, "cn-hangzhou", "rows-source");
    const data = await gw.gql(
      key,
      `mutation($input: CreateMirrorVaultInput!) { createMirrorVault(input: $input) {
        ... on VaultPayload { vault { id } } ... on Error { code message } } }`,
      { input: { sourceVaultId: vault, regionId: "cn-shanghai", name: "rows-mirror" } },
    );
    const mirror = uuidOf(data.createMirrorVault.vault.id);
    const rows = new Rows(gw.services);
    const started = Date.now();
    await expect(rows.replication(mirror, (r) => r.historicalSyncStatus === "COMPLETED", 1_500)).rejects.toThrow(
      `sync of ${mirror}: not there within 1500 ms (last: SCHEDULED/0)`,
    );
    // The bound, not a later change of the row (there is none) nor the watch's next look, ended the wait.
    expect(Date.now() - started).toBeLessThan(3_000);
  }, 20_000);
});
