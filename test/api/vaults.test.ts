import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";

let gw: TestGateway;
let key: string;
let otherKey: string;

const CREATE = `mutation($input: CreateBackupClientInput!) { createBackupClient(input: $input) {
  __typename
  ... on CreateBackupClientPayload { backupClient { id ecsInstanceId region { id } vault { id } } vault { id name description kind status region { id name } backupCount storedBytes } }
  ... on Error { code message }
  ... on InvalidInputError { issues { path message } } } }`;

async function createVault(apiKey: string, vaultName: string, regionId = "cn-hangzhou") {
  const data = await gw.gql(apiKey, CREATE, {
    input: { regionId, ecsInstanceId: `i-${vaultName}-${Math.random()}`, vaultName },
  });
  return data.createBackupClient;
}

beforeAll(async () => {
  gw = await startTestGateway("vaults");
  key = (await gw.createAccount("acme")).apiKey;
  otherKey = (await gw.createAccount("other")).apiKey;
});
afterAll(() => gw?.close());

describe("backup clients and their source vaults", () => {
  it("R1: a backup client creates its SOURCE vault in the client's region", async () => {
    const result = await createVault(key, "  prod-db  ", "cn-shanghai");
    expect(result.__typename).toBe("CreateBackupClientPayload");
    expect(result.vault).toMatchObject({
      name: "prod-db",
      kind: "SOURCE",
      status: "CREATED",
      region: { id: "cn-shanghai", name: "China (Shanghai)" },
      backupCount: 0,
      storedBytes: "0",
    });
    expect(result.backupClient.vault.id).toBe(result.vault.id);
    expect(result.backupClient.region.id).toBe("cn-shanghai");
  });

  it("R4: names of 0 or 33+ characters, long descriptions and unknown regions are INVALID_INPUT and write nothing", async () => {
    const before = await gw.services.db.vault.count();
    const cases = [
      { regionId: "cn-hangzhou", ecsInstanceId: "i-a", vaultName: "   " },
      { regionId: "cn-hangzhou", ecsInstanceId: "i-a", vaultName: "x".repeat(33) },
      { regionId: "cn-hangzhou", ecsInstanceId: "i-a", vaultName: "ok", vaultDescription: "d".repeat(256) },
      { regionId: "mars-1", ecsInstanceId: "i-a", vaultName: "ok" },
    ];
    const paths = [];
    for (const input of cases) {
      const data = await gw.gql(key, CREATE, { input });
      expect(data.createBackupClient.__typename).toBe("InvalidInputError");
      expect(data.createBackupClient.code).toBe("INVALID_INPUT");
      paths.push(data.createBackupClient.issues[0].path.join("."));
    }
    expect(paths).toEqual(["input.vaultName", "input.vaultName", "input.vaultDescription", "input.regionId"]);
    expect(await gw.services.db.vault.count()).toBe(before);
    // 32 characters is allowed
    expect((await createVault(key, "y".repeat(32))).vault.name).toHaveLength(32);
  });

  it("a second backup client for the same ECS instance in a region is CONFLICT", async () => {
    const input = { regionId: "cn-beijing", ecsInstanceId: "i-dup", vaultName: "one" };
    expect((await gw.gql(key, CREATE, { input })).createBackupClient.__typename).toBe("CreateBackupClientPayload");
    const again = await gw.gql(key, CREATE, { input: { ...input, vaultName: "two" } });
    expect(again.createBackupClient).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
  });

  it("a wrong input type is a GraphQL validation error, not a 500", async () => {
    const response = await gw.request(
      {
        query:
          'mutation { createBackupClient(input: {regionId: 5, ecsInstanceId: "i", vaultName: "n"}) { __typename } }',
      },
      key,
    );
    expect([200, 400]).toContain(response.status);
    const body = await response.json();
    expect(body.errors[0].message).toMatch(/String/);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe("listing and paging vaults", () => {
  let pagingKey: string;
  beforeAll(async () => {
    pagingKey = (await gw.createAccount("pager")).apiKey;
    for (let i = 0; i < 7; i++) await createVault(pagingKey, `vault-${i}`, i % 2 ? "cn-shanghai" : "cn-hangzhou");
  });

  it("pages forward with totalCount and cursors, in creation order", async () => {
    const query = `query($after: String) { vaults(first: 3, after: $after) { totalCount
      edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
    const names: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const data: any = await gw.gql(pagingKey, query, { after });
      expect(data.vaults.totalCount).toBe(7);
      names.push(...data.vaults.edges.map((e: any) => e.node.name));
      pages++;
      if (!data.vaults.pageInfo.hasNextPage) break;
      after = data.vaults.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(names).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `vault-${i}`));
  });

  it("pages backward with last/before", async () => {
    const last = await gw.gql(
      pagingKey,
      "{ vaults(last: 2) { edges { node { name } } pageInfo { hasPreviousPage startCursor } } }",
    );
    expect(last.vaults.edges.map((e: any) => e.node.name)).toEqual(["vault-5", "vault-6"]);
    expect(last.vaults.pageInfo.hasPreviousPage).toBe(true);
    const before = await gw.gql(
      pagingKey,
      "query($c: String) { vaults(last: 2, before: $c) { edges { node { name } } } }",
      {
        c: last.vaults.pageInfo.startCursor,
      },
    );
    expect(before.vaults.edges.map((e: any) => e.node.name)).toEqual(["vault-3", "vault-4"]);
  });

  it("garbage and hand-made cursors, negative sizes and oversized BigInts get clear errors, never a 500", async () => {
    const forged = Buffer.from('GPC:T:["S:foo","S:bar"]').toString("base64");
    for (const [query, message] of [
      [`{ vaults(first: 2, after: "garbage") { totalCount } }`, /cursor/i],
      [`{ vaults(first: 2, after: "${forged}") { edges { cursor } } }`, /invalid cursor/],
      [`{ vaults(first: -1) { totalCount } }`, /first/],
      [
        `{ restorePlan(input: {mirrorVaultId: "x", sourceInstanceId: "x", sourceDatabaseName: "A", targetInstanceId: "x", mode: RECOVERY_TO_LOG_POSITION, logPosition: "99999999999999999999"}) { __typename } }`,
        /BigInt/,
      ],
    ] as const) {
      const response = await gw.request({ query }, pagingKey);
      const body = await response.json();
      expect(response.status, query).not.toBe(500);
      expect(body.errors?.[0]?.message ?? JSON.stringify(body), query).toMatch(message);
      expect(body.errors[0].message).not.toBe("Unexpected error.");
    }
  });

  it("filters by region, kind and name, with a matching totalCount", async () => {
    const data = await gw.gql(
      pagingKey,
      `{ vaults(first: 10, filter: {regionId: "cn-shanghai", kind: SOURCE, nameContains: "VAULT"}) {
      totalCount edges { node { name region { id } } } } }`,
    );
    expect(data.vaults.totalCount).toBe(3);
    expect(data.vaults.edges.map((e: any) => e.node.name)).toEqual(["vault-1", "vault-3", "vault-5"]);
  });
});

describe("update, delete, and R17 isolation", () => {
  it("renames a vault and validates the new name", async () => {
    const { vault } = await createVault(key, "rename-me");
    const UPDATE = `mutation($input: UpdateVaultInput!) { updateVault(input: $input) { __typename
      ... on VaultPayload { vault { name description } } ... on Error { code } } }`;
    const ok = await gw.gql(key, UPDATE, { input: { vaultId: vault.id, name: " renamed ", description: "nightly" } });
    expect(ok.updateVault.vault).toEqual({ name: "renamed", description: "nightly" });
    const bad = await gw.gql(key, UPDATE, { input: { vaultId: vault.id, name: "z".repeat(33) } });
    expect(bad.updateVault.code).toBe("INVALID_INPUT");
    const row = await gw.services.db.vault.findFirst({ where: { name: "renamed" } });
    expect(row?.name).toBe("renamed");
  });

  it("R17: another account's vault is NOT_FOUND on node, nodes, update and delete, and unchanged", async () => {
    const { vault } = await createVault(key, "private");
    const seen = await gw.gql(
      otherKey,
      "query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } vaults(first: 50) { totalCount } }",
      {
        id: vault.id,
      },
    );
    expect(seen).toEqual({ node: null, nodes: [null], vaults: { totalCount: 0 } });
    const upd = await gw.gql(
      otherKey,
      `mutation($id: ID!) { updateVault(input: {vaultId: $id, name: "stolen"}) { __typename ... on Error { code message } } }`,
      { id: vault.id },
    );
    expect(upd.updateVault.code).toBe("NOT_FOUND");
    const del = await gw.gql(
      otherKey,
      `mutation($id: ID!) { deleteVault(input: {vaultId: $id}) { __typename ... on Error { code } } }`,
      { id: vault.id },
    );
    expect(del.deleteVault.code).toBe("NOT_FOUND");
    const mine = await gw.gql(key, "query($id: ID!) { node(id: $id) { ... on Vault { name } } }", { id: vault.id });
    expect(mine.node.name).toBe("private");
  });

  it("malformed and wrong-type ids are NOT_FOUND", async () => {
    const { backupClient } = await createVault(key, "typed");
    for (const id of ["not-an-id", backupClient.id, "VmF1bHQ6bm9wZQ=="]) {
      const del = await gw.gql(
        key,
        `mutation($id: ID!) { deleteVault(input: {vaultId: $id}) { __typename ... on Error { code message } } }`,
        { id },
      );
      expect(del.deleteVault.code).toBe("NOT_FOUND");
    }
  });

  it("deletes a vault", async () => {
    const { vault } = await createVault(key, "doomed");
    const del = await gw.gql(
      key,
      `mutation($id: ID!) { deleteVault(input: {vaultId: $id}) { __typename ... on DeleteVaultPayload { deletedVaultId } } }`,
      { id: vault.id },
    );
    expect(del.deleteVault.deletedVaultId).toBe(vault.id);
    const after = await gw.gql(key, "query($id: ID!) { node(id: $id) { id } }", { id: vault.id });
    expect(after.node).toBeNull();
  });
});
