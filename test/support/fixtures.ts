// API-level fixtures shared by test files: everything goes through the GraphQL API.
import { decodeGlobalID } from "@pothos/plugin-relay";
import type { TestGateway } from "./gateway.ts";
import { waitFor, waitForSync } from "./jobs.ts";

export const uuidOf = (globalId: string) => decodeGlobalID(globalId).id;

export async function createSourceVault(gw: TestGateway, key: string, regionId: string, name = `vault-${regionId}`) {
  const data = await gw.gql(
    key,
    `mutation($input: CreateBackupClientInput!) { createBackupClient(input: $input) {
      ... on CreateBackupClientPayload { vault { id } } ... on Error { code message } } }`,
    { input: { regionId, ecsInstanceId: `i-${Math.random().toString(36).slice(2)}`, vaultName: name } },
  );
  if (!data.createBackupClient.vault) throw new Error(JSON.stringify(data));
  return data.createBackupClient.vault.id as string;
}

export const REGISTER = `mutation($input: RegisterHanaInstanceInput!) { registerHanaInstance(input: $input) { __typename
  ... on HanaInstancePayload { hanaInstance { id sid status statusMessage region { id } } }
  ... on Error { code message } ... on InvalidInputError { issues { path message } } } }`;

export function instanceInput(regionId: string, vaultId: string, overrides: Record<string, unknown> = {}) {
  return {
    regionId,
    vaultId,
    name: "hana-prod",
    sid: "HP1",
    instanceNumber: "00",
    host: "10.0.0.12",
    ecsInstanceIds: ["i-hana-1"],
    userName: "SYSTEM",
    password: "S3cret-Passw0rd!",
    ...overrides,
  };
}

/** Registers an instance and waits (on its job) until the region's worker has initialized it. */
export async function registerInstance(
  gw: TestGateway,
  key: string,
  regionId: string,
  vaultId: string,
  overrides = {},
) {
  const data = await gw.gql(key, REGISTER, { input: instanceInput(regionId, vaultId, overrides) });
  const instance = data.registerHanaInstance.hanaInstance;
  if (!instance) throw new Error(JSON.stringify(data));
  await waitFor.initialized(gw.services, regionId, uuidOf(instance.id));
  return instance.id as string;
}

export async function writeRows(
  gw: TestGateway,
  key: string,
  instanceId: string,
  databaseName: string,
  transactions: number,
) {
  const data = await gw.gql(
    key,
    `mutation($input: SimulateHanaWritesInput!) { simulateHanaWrites(input: $input) { __typename
      ... on SimulateHanaWritesPayload { database { name logPosition lastCommitTime contentDigest } } ... on Error { code message } } }`,
    { input: { instanceId, databaseName, transactions, rowsPerTransaction: 5 } },
  );
  if (!data.simulateHanaWrites.database) throw new Error(JSON.stringify(data));
  return data.simulateHanaWrites.database as { logPosition: string; lastCommitTime: string; contentDigest: string };
}

export const START_BACKUP = `mutation($input: StartHanaBackupInput!) { startHanaBackup(input: $input) { __typename
  ... on BackupPayload { backup { id status type prefix } } ... on Error { code message } } }`;

/** Starts a backup and waits for its job; returns the finished Backup as the API shows it. */
export async function takeBackup(
  gw: TestGateway,
  key: string,
  regionId: string,
  instanceId: string,
  databaseName: string,
  type: string,
) {
  const data = await gw.gql(key, START_BACKUP, { input: { instanceId, databaseName, type } });
  const backup = data.startHanaBackup.backup;
  if (!backup) throw new Error(JSON.stringify(data));
  expectRunning(backup.status);
  await waitFor.backup(gw.services, regionId, uuidOf(backup.id));
  const done = await gw.gql(
    key,
    `query($id: ID!) { node(id: $id) { ... on Backup { id status type sizeBytes logPositionStart logPositionEnd coversUntil prefix hanaBackupId mirroredAt } } }`,
    { id: backup.id },
  );
  return done.node;
}

function expectRunning(status: string) {
  if (status !== "RUNNING") throw new Error(`startHanaBackup returned ${status}, expected RUNNING`);
}

/** Creates the mirror of a SOURCE vault in `regionId` and waits (on its job) until its historical sync has run. */
export async function createMirror(
  gw: TestGateway,
  key: string,
  sourceVaultId: string,
  regionId: string,
  name = "mirror",
  timeoutMs = 60_000,
) {
  const data = await gw.gql(
    key,
    `mutation($s: ID!, $r: String!, $n: String!) { createMirrorVault(input: {sourceVaultId: $s, regionId: $r, name: $n}) {
      ... on VaultPayload { vault { id } } ... on Error { code message } } }`,
    { s: sourceVaultId, r: regionId, n: name },
  );
  const mirror = data.createMirrorVault.vault;
  if (!mirror) throw new Error(JSON.stringify(data));
  await waitForSync.historicalSync(gw.services, regionId, uuidOf(mirror.id), timeoutMs);
  return mirror.id as string;
}

/**
 * The disaster-recovery setting most assurance tests start from: SOURCE vault "prod" in `sourceRegion` with the
 * instance PR1, its mirror "prod-mirror" in `mirrorRegion` (historical sync done) and, in the mirror's region, the
 * initialized target instance DR1 in a vault "dr".
 */
export async function drSetting(gw: TestGateway, key: string, sourceRegion: string, mirrorRegion: string) {
  const sourceVault = await createSourceVault(gw, key, sourceRegion, "prod");
  const source = await registerInstance(gw, key, sourceRegion, sourceVault, { sid: "PR1" });
  const mirror = await createMirror(gw, key, sourceVault, mirrorRegion, "prod-mirror");
  const targetVault = await createSourceVault(gw, key, mirrorRegion, "dr");
  const target = await registerInstance(gw, key, mirrorRegion, targetVault, { sid: "DR1", host: "10.1.0.5" });
  return { sourceVault, source, mirror, targetVault, target };
}
