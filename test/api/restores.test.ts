// The workflow the product exists for: cluster A in region A backed up to a vault in A, mirrored to B, restored
// into cluster B (registered in B) from the mirror alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobIds } from "../../src/queue/queues.ts";
import {
  createMirror,
  createSourceVault,
  registerInstance,
  takeBackup,
  uuidOf,
  writeRows,
} from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { closeJobListeners, waitForJob } from "../support/jobs.ts";

const A = "cn-hangzhou";
const B = "cn-shanghai";
let gw: TestGateway;
let key: string;
let sourceVault: string;
let mirrorVault: string;
let sourceInstance: string;
let targetInstance: string;
/** The source's digest after each write step, read from the source cluster while writing (not from the catalog). */
const states: { logPosition: string; lastCommitTime: string; contentDigest: string }[] = [];
const backups: Record<string, any> = {};

const RESTORE_FIELDS = `id status phase progress reachedTime reachedLogPosition message
  validation { status expectedDigest actualDigest } plan { targetLogPosition targetTime totalBytes recoverStatement steps { order action backup { id type } } }`;
const RESTORE = `mutation($input: RestoreFromMirrorInput!) { restoreFromMirror(input: $input) { __typename
  ... on RestorePayload { restore { ${RESTORE_FIELDS} } } ... on Error { code message } ... on InvalidInputError { issues { path message } } } }`;
const PLAN = `query($input: RestoreFromMirrorInput!) { restorePlan(input: $input) { __typename
  ... on RestorePlan { targetLogPosition targetTime totalBytes recoverStatement steps { order action backup { id type } } }
  ... on Error { code message } ... on InvalidInputError { issues { path message } } } }`;

function input(overrides: Record<string, unknown> = {}) {
  return {
    mirrorVaultId: mirrorVault,
    sourceInstanceId: sourceInstance,
    sourceDatabaseName: "PR1",
    targetInstanceId: targetInstance,
    targetDatabaseName: "PR1",
    mode: "RECOVERY_TO_MOST_RECENT",
    overwrite: true,
    ...overrides,
  };
}

async function runRestore(overrides: Record<string, unknown>) {
  const data = await gw.gql(key, RESTORE, { input: input(overrides) });
  const restore = data.restoreFromMirror.restore;
  if (!restore) throw new Error(JSON.stringify(data.restoreFromMirror));
  await waitForJob(gw.services, B, "restore", jobIds.restore(uuidOf(restore.id)), 60_000);
  const done = await gw.gql(
    key,
    `query($id: ID!) { node(id: $id) { ... on Restore { ${RESTORE_FIELDS} } }
    target: node(id: "${targetInstance}") { ... on HanaInstance { databases { name contentDigest logPosition running } } } }`,
    { id: restore.id },
  );
  return {
    restore: done.node,
    target: done.target.databases.find((d: any) => d.name === (overrides.targetDatabaseName ?? "PR1")),
  };
}

async function step(transactions: number) {
  states.push(await writeRows(gw, key, sourceInstance, "PR1", transactions));
  return states.at(-1)!;
}

beforeAll(async () => {
  gw = await startTestGateway("restores", { historicalSyncDelayMs: 300 }, { workerRegions: [A, B] });
  key = (await gw.createAccount()).apiKey;
  sourceVault = await createSourceVault(gw, key, A, "prod");
  sourceInstance = await registerInstance(gw, key, A, sourceVault, { sid: "PR1" });
  await step(20);
  backups.complete = await takeBackup(gw, key, A, sourceInstance, "PR1", "COMPLETE");
  await step(15);
  await step(10);
  backups.log1 = await takeBackup(gw, key, A, sourceInstance, "PR1", "LOG");
  backups.diff = await takeBackup(gw, key, A, sourceInstance, "PR1", "DIFFERENTIAL");
  await step(12);
  await step(8);
  backups.log2 = await takeBackup(gw, key, A, sourceInstance, "PR1", "LOG");
  // The mirror in B: its historical sync copies every backup above.
  mirrorVault = await createMirror(gw, key, sourceVault, B, "prod-mirror");
  const targetVault = await createSourceVault(gw, key, B, "dr");
  targetInstance = await registerInstance(gw, key, B, targetVault, { sid: "DR1", host: "10.1.0.5" });
}, 180_000);
afterAll(async () => {
  await closeJobListeners();
  await gw?.close();
});

describe("restoreFromMirror across regions", () => {
  it("plans the most recent restore from the mirrored backups, in SAP HANA syntax", async () => {
    const data = await gw.gql(key, PLAN, { input: input() });
    const plan = data.restorePlan;
    expect(plan.__typename).toBe("RestorePlan");
    expect(plan.targetLogPosition).toBe(states.at(-1)!.logPosition);
    expect(plan.steps.map((s: any) => s.action)).toEqual(["LOAD_DATA", "APPLY_DELTA", "REPLAY_LOG"]);
    expect(plan.steps[0].backup.id).toBe(backups.complete.id);
    expect(plan.recoverStatement).toMatch(/^RECOVER DATABASE FOR PR1 UNTIL /);
    expect(plan.recoverStatement).toContain("CLEAR LOG");
    expect(plan.recoverStatement).toContain("USING SOURCE 'PR1@PR1'");
  });

  it("RECOVERY_TO_MOST_RECENT ends COMPLETE, validated, with the source's digest at the reached position", async () => {
    const { restore, target } = await runRestore({ mode: "RECOVERY_TO_MOST_RECENT" });
    expect(restore.status).toBe("COMPLETE");
    expect(restore.phase).toBe("DONE");
    expect(restore.progress).toBe(100);
    expect(restore.validation.status).toBe("SUCCESSFUL");
    expect(restore.reachedLogPosition).toBe(states.at(-1)!.logPosition);
    expect(target.contentDigest).toBe(states.at(-1)!.contentDigest);
    expect(restore.message).toMatch(/RECOVER DATA finished successfully/);
  });

  it("RECOVERY_TO_POINT_IN_TIME between two commits reaches the earlier one", async () => {
    const at = states[2]; // after the third write step
    const between = new Date(new Date(at.lastCommitTime).getTime() + 0.5).toISOString();
    const { restore, target } = await runRestore({
      mode: "RECOVERY_TO_POINT_IN_TIME",
      pointInTime: between,
      useDelta: false,
    });
    expect(restore.status).toBe("COMPLETE");
    expect(restore.reachedLogPosition).toBe(at.logPosition);
    expect(restore.reachedTime).toBe(at.lastCommitTime);
    expect(target.contentDigest).toBe(at.contentDigest);
  });

  it("RECOVERY_TO_SPECIFIC_BACKUP restores the DIFFERENTIAL with no log replay", async () => {
    const { restore, target } = await runRestore({ mode: "RECOVERY_TO_SPECIFIC_BACKUP", backupId: backups.diff.id });
    expect(restore.status).toBe("COMPLETE");
    expect(restore.plan.steps.map((s: any) => s.action)).toEqual(["LOAD_DATA", "APPLY_DELTA"]);
    expect(restore.reachedLogPosition).toBe(states[2].logPosition);
    expect(target.contentDigest).toBe(states[2].contentDigest);
  });

  it("RECOVERY_TO_LOG_POSITION reaches exactly that position, into a new tenant", async () => {
    const at = states[3];
    const { restore, target } = await runRestore({
      mode: "RECOVERY_TO_LOG_POSITION",
      logPosition: at.logPosition,
      targetDatabaseName: "PR1COPY",
      overwrite: false,
    });
    expect(restore.status).toBe("COMPLETE");
    expect(restore.validation.status).toBe("SUCCESSFUL");
    expect(restore.reachedLogPosition).toBe(at.logPosition);
    expect(target.contentDigest).toBe(at.contentDigest);
  });

  it("bad input gets contract errors that say what to do, and queues nothing", async () => {
    const queued = await gw.services.queues.get(B, "restore").getJobCounts();
    const restoresBefore = await gw.services.db.restore.count();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ mirrorVaultId: sourceVault }, "INVALID_INPUT", /mirror vault/],
      [{ targetInstanceId: sourceInstance }, "INVALID_INPUT", /mirror's region/],
      [
        { mode: "RECOVERY_TO_POINT_IN_TIME", pointInTime: new Date(Date.now() + 3_600_000).toISOString() },
        "INVALID_INPUT",
        /future/,
      ],
      [
        { mode: "RECOVERY_TO_POINT_IN_TIME", pointInTime: "2020-01-01T00:00:00.000Z" },
        "FAILED_PRECONDITION",
        /COMPLETE/,
      ],
      [{ mode: "RECOVERY_TO_SPECIFIC_BACKUP", backupId: backups.log1.id }, "INVALID_INPUT", /LOG/],
      [{ mode: "RECOVERY_TO_LOG_POSITION", logPosition: "999999" }, "FAILED_PRECONDITION", /newest|after|past|beyond/i],
      [{ overwrite: false }, "CONFLICT", /overwrite: true/],
      [{ targetDatabaseName: "SYSTEMDB" }, "INVALID_INPUT", /SYSTEMDB/],
    ];
    for (const [override, code, message] of cases) {
      const data = await gw.gql(key, RESTORE, { input: input(override) });
      expect(data.restoreFromMirror.code, JSON.stringify(override)).toBe(code);
      expect(data.restoreFromMirror.message).toMatch(message);
    }
    const other = (await gw.createAccount("other")).apiKey;
    const foreign = await gw.gql(other, RESTORE, { input: input() });
    expect(foreign.restoreFromMirror.code).toBe("NOT_FOUND");
    expect(await gw.services.db.restore.count()).toBe(restoresBefore);
    expect(await gw.services.queues.get(B, "restore").getJobCounts()).toEqual(queued);
  });

  it("idempotencyKey with the same input returns the same restore; cancelling a finished one is FAILED_PRECONDITION", async () => {
    const first = await gw.gql(key, RESTORE, { input: input({ idempotencyKey: "nightly-drill-1" }) });
    const again = await gw.gql(key, RESTORE, { input: input({ idempotencyKey: "nightly-drill-1" }) });
    const id = first.restoreFromMirror.restore.id;
    expect(again.restoreFromMirror.restore.id).toBe(id);
    await waitForJob(gw.services, B, "restore", jobIds.restore(uuidOf(id)), 60_000);
    const cancel = await gw.gql(
      key,
      `mutation($id: ID!) { cancelRestore(input: {restoreId: $id}) { __typename ... on Error { code message } } }`,
      { id },
    );
    expect(cancel.cancelRestore.code).toBe("FAILED_PRECONDITION");
    const list = await gw.gql(
      key,
      `{ restores(first: 50, filter: {status: COMPLETE}) { totalCount edges { node { id status } } } }`,
    );
    expect(list.restores.edges.map((e: any) => e.node.id)).toContain(id);
  });

  it("restoreUpdated streams every change over Server-Sent Events until the terminal status", async () => {
    const data = await gw.gql(key, RESTORE, { input: input({ mode: "RECOVERY_TO_MOST_RECENT" }) });
    const id = data.restoreFromMirror.restore.id;
    const response = await gw.yoga.fetch("http://gateway.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${key}` },
      body: JSON.stringify({
        query: `subscription($id: ID!) { restoreUpdated(restoreId: $id) { status phase progress } }`,
        variables: { id },
      }),
    });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes("event: complete")) break;
    }
    const updates = text
      .split("\n")
      .filter((line) => line.startsWith("data: ") && line.includes("restoreUpdated"))
      .map((line) => JSON.parse(line.slice(6)).data.restoreUpdated);
    expect(updates.length).toBeGreaterThanOrEqual(2);
    expect(updates.at(-1)).toMatchObject({ status: "COMPLETE", phase: "DONE", progress: 100 });
    const progress = updates.map((u: any) => u.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it("R15: database names are case-insensitive, so 'pr1' is the existing PR1 and needs overwrite", async () => {
    const data = await gw.gql(key, RESTORE, { input: input({ targetDatabaseName: "pr1", overwrite: false }) });
    expect(data.restoreFromMirror.code).toBe("CONFLICT");
    const sys = await gw.gql(key, RESTORE, {
      input: input({ sourceDatabaseName: "PR1", targetDatabaseName: "systemdb" }),
    });
    expect(sys.restoreFromMirror.code).toBe("INVALID_INPUT");
  });

  it("R15: of two simultaneous restores into one target database exactly one is accepted, the other is CONFLICT", async () => {
    const results = await Promise.all(
      [1, 2].map(() => gw.gql(key, RESTORE, { input: input({ targetDatabaseName: "TWIN", overwrite: true }) })),
    );
    const kinds = results.map((r) => r.restoreFromMirror.__typename).sort();
    expect(kinds).toEqual(["ConflictError", "RestorePayload"]);
    const accepted = results.find((r) => r.restoreFromMirror.restore)!.restoreFromMirror.restore.id;
    await waitForJob(gw.services, B, "restore", jobIds.restore(uuidOf(accepted)), 60_000);
  });

  it("the same idempotencyKey with a different input is CONFLICT and creates nothing", async () => {
    const before = await gw.services.db.restore.count();
    const data = await gw.gql(key, RESTORE, {
      input: input({ idempotencyKey: "nightly-drill-1", targetDatabaseName: "OTHER" }),
    });
    expect(data.restoreFromMirror.code).toBe("CONFLICT");
    expect(await gw.services.db.restore.count()).toBe(before);
  });

  it("R11: a target instance that is not INITIALIZED is FAILED_PRECONDITION", async () => {
    const vault = await createSourceVault(gw, key, B, "dr-broken");
    const reg = await gw.gql(
      key,
      `mutation($v: ID!) { registerHanaInstance(input: {regionId: "${B}", vaultId: $v, name: "b", sid: "BRK",
      instanceNumber: "02", host: "unreachable.example", ecsInstanceIds: ["i-b"], userName: "SYSTEM", password: "pw"}) {
      ... on HanaInstancePayload { hanaInstance { id } } } }`,
      { v: vault },
    );
    const broken = reg.registerHanaInstance.hanaInstance.id;
    await waitForJob(gw.services, B, "hana", jobIds.initialize(uuidOf(broken)));
    const data = await gw.gql(key, RESTORE, { input: input({ targetInstanceId: broken }) });
    expect(data.restoreFromMirror.code).toBe("FAILED_PRECONDITION");
    expect(data.restoreFromMirror.message).toMatch(/INITIALIZE_FAILED/);
  });

  it("R17: another account sees none of it: plan, restore node, list and subscription", async () => {
    const other = (await gw.createAccount("outsider")).apiKey;
    const plan = await gw.gql(other, PLAN, { input: input() });
    expect(plan.restorePlan.code).toBe("NOT_FOUND");
    const mine = await gw.gql(key, "{ restores(first: 1) { edges { node { id } } } }");
    const id = mine.restores.edges[0].node.id;
    const seen = await gw.gql(other, "query($id: ID!) { node(id: $id) { id } restores(first: 10) { totalCount } }", {
      id,
    });
    expect(seen).toEqual({ node: null, restores: { totalCount: 0 } });
    const response = await gw.yoga.fetch("http://gateway.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${other}` },
      body: JSON.stringify({
        query: "subscription($id: ID!) { restoreUpdated(restoreId: $id) { status } }",
        variables: { id },
      }),
    });
    const text = await response.text();
    expect(text).toContain("NOT_FOUND");
    expect(text).not.toContain("COMPLETE");
  });
});
