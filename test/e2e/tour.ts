// The README's tour, as a new user runs it against a served gateway over HTTP: account, backup client, instance A,
// writes, COMPLETE + LOG + DIFFERENTIAL backups, a mirror and its historical sync, instance B in the mirror's region,
// a plan and a restore from the mirror that ends validated. Waits on the API's own subscriptions (SSE), bounded.

export type Gql = <T = any>(query: string, variables?: Record<string, unknown>) => Promise<T>;

export type TourResult = {
  restore: { status: string; reachedLogPosition: string; validation: { status: string } };
  /** Instance A after its last write, which the last LOG backup covers: what a MOST_RECENT restore must reach. */
  sourceLast: { logPosition: string; contentDigest: string };
  targetDigest: string;
  historicalSyncStatus: string;
  backupTypes: string[];
};

export function client(baseUrl: string, apiKey: string): Gql {
  return async (query, variables) => {
    const response = await fetch(`${baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors?.length || !response.ok) throw new Error(`${response.status} ${JSON.stringify(body.errors)}`);
    return body.data;
  };
}

/** Reads a subscription's Server-Sent Events until `done` says so, within `timeoutMs`. */
export async function subscribeUntil<T>(
  baseUrl: string,
  apiKey: string,
  query: string,
  done: (data: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.body) throw new Error(`no event stream: HTTP ${response.status}`);
  const decoder = new TextDecoder();
  let buffer = "";
  let last: T | undefined;
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      const data = event.split("\n").find((line) => line.startsWith("data:"));
      if (!data || !event.includes("event: next")) continue;
      const payload = JSON.parse(data.slice(5)) as { data?: T; errors?: unknown[] };
      if (payload.errors) throw new Error(`subscription error: ${JSON.stringify(payload.errors)}`);
      last = payload.data as T;
      if (done(last)) {
        await response.body.cancel().catch(() => {});
        return last;
      }
    }
  }
  throw new Error(`the subscription ended before its condition held; last: ${JSON.stringify(last)}`);
}

/** Creates an account through the admin key and returns its API key. */
export async function createAccount(baseUrl: string, adminKey: string, name = "tour"): Promise<string> {
  const created = await client(
    baseUrl,
    adminKey,
  )(`mutation { createAccount(input: { name: "${name}" }) {
    ... on CreateAccountPayload { apiKey } ... on Error { code message } } }`);
  return created.createAccount.apiKey as string;
}

/** The tour's steps for one account on one served gateway, each waiting on its own subscription. */
export function tourSteps(baseUrl: string, apiKey: string) {
  const gql = client(baseUrl, apiKey);
  const waitFor = <T>(query: string, done: (data: T) => boolean, timeoutMs = 60_000) =>
    subscribeUntil<T>(baseUrl, apiKey, query, done, timeoutMs);

  async function sourceVault(regionId: string, name: string) {
    const data = await gql(
      `mutation($input: CreateBackupClientInput!) { createBackupClient(input: $input) {
      ... on CreateBackupClientPayload { vault { id } } ... on Error { code message } } }`,
      {
        input: { regionId, ecsInstanceId: `i-${name}`, vaultName: name },
      },
    );
    if (!data.createBackupClient.vault) throw new Error(JSON.stringify(data));
    return data.createBackupClient.vault.id as string;
  }

  async function instance(regionId: string, vaultId: string, sid: string) {
    const data = await gql(
      `mutation($input: RegisterHanaInstanceInput!) { registerHanaInstance(input: $input) {
      ... on HanaInstancePayload { hanaInstance { id } } ... on Error { code message } } }`,
      {
        input: {
          regionId,
          vaultId,
          name: `hana-${sid}`,
          sid,
          instanceNumber: "00",
          host: "10.0.0.12",
          ecsInstanceIds: [`i-${sid}`],
          userName: "SYSTEM",
          password: "Tour-Passw0rd!",
        },
      },
    );
    const id = data.registerHanaInstance.hanaInstance?.id as string;
    if (!id) throw new Error(JSON.stringify(data));
    const ready = await waitFor<any>(
      `subscription { hanaInstanceUpdated(instanceId: "${id}") { status statusMessage } }`,
      (d) => d.hanaInstanceUpdated.status !== "INITIALIZING",
    );
    if (ready.hanaInstanceUpdated.status !== "INITIALIZED") throw new Error(JSON.stringify(ready));
    return id;
  }

  async function write(instanceId: string, transactions: number) {
    const data = await gql(
      `mutation($input: SimulateHanaWritesInput!) { simulateHanaWrites(input: $input) {
      ... on SimulateHanaWritesPayload { database { logPosition contentDigest } } ... on Error { code message } } }`,
      {
        input: { instanceId, databaseName: "PRD", transactions },
      },
    );
    if (!data.simulateHanaWrites.database) throw new Error(JSON.stringify(data));
    return data.simulateHanaWrites.database as { logPosition: string; contentDigest: string };
  }

  async function backup(instanceId: string, type: string) {
    const data = await gql(
      `mutation($input: StartHanaBackupInput!) { startHanaBackup(input: $input) {
      ... on BackupPayload { backup { id } } ... on Error { code message } } }`,
      {
        input: { instanceId, databaseName: "PRD", type },
      },
    );
    const id = data.startHanaBackup.backup?.id as string;
    if (!id) throw new Error(JSON.stringify(data));
    const done = await waitFor<any>(
      `subscription { backupUpdated(backupId: "${id}") { status type message } }`,
      (d) => d.backupUpdated.status !== "RUNNING",
    );
    if (done.backupUpdated.status !== "COMPLETE") throw new Error(JSON.stringify(done));
    return done.backupUpdated.type as string;
  }

  return { gql, waitFor, sourceVault, instance, write, backup };
}

/** The tour as a new account (`apiKey`: an account made beforehand, e.g. to look for its key in the logs). */
export async function runTour(baseUrl: string, adminKey: string, apiKey?: string): Promise<TourResult> {
  const { gql, waitFor, sourceVault, instance, write, backup } = tourSteps(
    baseUrl,
    apiKey ?? (await createAccount(baseUrl, adminKey)),
  );
  const vaultA = await sourceVault("cn-hangzhou", "prod");
  const instanceA = await instance("cn-hangzhou", vaultA, "PRD");
  const backupTypes: string[] = [];
  await write(instanceA, 100);
  backupTypes.push(await backup(instanceA, "COMPLETE"));
  await write(instanceA, 50);
  backupTypes.push(await backup(instanceA, "LOG"));
  await write(instanceA, 50);
  backupTypes.push(await backup(instanceA, "DIFFERENTIAL"));
  const sourceLast = await write(instanceA, 30);
  backupTypes.push(await backup(instanceA, "LOG"));

  const mirror =
    await gql(`mutation { createMirrorVault(input: { sourceVaultId: "${vaultA}", regionId: "cn-shanghai", name: "prod-mirror" }) {
    ... on VaultPayload { vault { id } } ... on Error { code message } } }`);
  const mirrorId = mirror.createMirrorVault.vault?.id as string;
  if (!mirrorId) throw new Error(JSON.stringify(mirror));
  const synced = await waitFor<any>(
    `subscription { vaultReplicationUpdated(vaultId: "${mirrorId}") { replication { historicalSyncStatus pendingBackupCount } } }`,
    (d) => ["COMPLETED", "FAILED"].includes(d.vaultReplicationUpdated.replication.historicalSyncStatus),
    120_000,
  );

  const vaultB = await sourceVault("cn-shanghai", "dr");
  const instanceB = await instance("cn-shanghai", vaultB, "DRB");
  const input = `{ mirrorVaultId: "${mirrorId}", sourceInstanceId: "${instanceA}", sourceDatabaseName: "PRD",
    targetInstanceId: "${instanceB}", targetDatabaseName: "PRD", mode: RECOVERY_TO_MOST_RECENT, overwrite: true }`;
  const plan = await gql(`query { restorePlan(input: ${input}) {
    ... on RestorePlan { targetLogPosition recoverStatement } ... on Error { code message } } }`);
  if (!plan.restorePlan.recoverStatement) throw new Error(JSON.stringify(plan));
  const started = await gql(`mutation { restoreFromMirror(input: ${input}) {
    ... on RestorePayload { restore { id } } ... on Error { code message } } }`);
  const restoreId = started.restoreFromMirror.restore?.id as string;
  if (!restoreId) throw new Error(JSON.stringify(started));
  const ended = await waitFor<any>(
    `subscription { restoreUpdated(restoreId: "${restoreId}") { status reachedLogPosition message validation { status expectedDigest actualDigest } } }`,
    (d) => ["COMPLETE", "PARTIAL_COMPLETE", "FAILED", "CANCELED"].includes(d.restoreUpdated.status),
    120_000,
  );
  const target = await gql(
    `query { node(id: "${instanceB}") { ... on HanaInstance { databases { name contentDigest } } } }`,
  );
  const targetDigest = target.node.databases.find((d: any) => d.name === "PRD")?.contentDigest;
  return {
    restore: ended.restoreUpdated,
    sourceLast,
    targetDigest,
    historicalSyncStatus: synced.vaultReplicationUpdated.replication.historicalSyncStatus,
    backupTypes,
  };
}
