// The fault suite's world: its own PostgreSQL cluster (embedded binaries), the API and region A's workers in this
// process, and every other region's workers as separate processes that the rounds SIGKILL. See harness.ts.

import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { reconcileOnce } from "../../jobs/reconciler.ts";
import { startWorkers } from "../../jobs/workers.ts";
import { createGateway, createHttpServer } from "../../src/app.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../src/db/embeddedPostgres.ts";
import { applyMigrations } from "../../src/db/schemaEngine.ts";
import { createServices, type Services } from "../../src/services.ts";
import { TEST_REDIS_URL } from "../support/backends.ts";
import { createSourceVault, registerInstance, takeBackup, uuidOf, writeRows } from "../support/fixtures.ts";
import type { TestGateway } from "../support/gateway.ts";
import { closeJobListeners } from "../support/jobs.ts";
import { freePort, type GatewayProcess, killAll, startProcess } from "../support/processes.ts";
import { loseQueueData } from "../support/queueLoss.ts";
import { Rows } from "./rows.ts";

export type Backend = "redis" | "postgres";
export type FaultFigures = {
  kills: number;
  completions: number;
  failures: number;
  overlaps: number;
  longestRecoveryMs: number;
  /** Writes to the restore target the fence refused (a woken run's, after another took over). */
  refusedWrites?: number;
};

const A = "cn-hangzhou";
const B = "cn-shanghai";
const ADMIN = "faults-admin-key";
/** Short, so a killed worker's work is taken over within seconds (the README's trade-off, at test scale). */
const LEASE_MS = 3000;
const DATABASE = "mvg_faults";
/** The mirror region of the sync, flush and restart rounds: each round's mirror is deleted and the region emptied. */
const SYNC = "fault-sync";
const pidOf = (owner: string | null | undefined) => (owner ? Number(owner.split("-")[0]) : null);

type Fixture = { vault: string; instance: string; sid: string };

export class FaultWorld {
  readonly workers = new Map<string, Set<GatewayProcess>>();
  private readonly started = new Set<GatewayProcess>();
  private spawned = 0;
  /** Writes of woken runs the fence refused, over the frozen rounds. */
  refusedByFence = 0;
  key = "";
  restoreSource!: Fixture;
  syncSource!: Fixture & { backups: string[] };
  mirror = "";
  target = "";
  expected!: { logPosition: string; contentDigest: string };
  readonly rows: Rows;

  private constructor(
    readonly backend: Backend,
    readonly root: string,
    private pg: EmbeddedPostgres,
    readonly port: number,
    readonly services: Services,
    readonly gw: TestGateway,
    private readonly http: Server,
    private readonly inProcess: { close(): Promise<void> },
    readonly env: NodeJS.ProcessEnv,
    readonly log: (line: string) => void,
  ) {
    this.rows = new Rows(services);
  }

  static async start(backend: Backend, log: (line: string) => void): Promise<FaultWorld> {
    const root = mkdtempSync(path.join(tmpdir(), "mvg-faults-"));
    // Started as root, the cluster runs as an unprivileged user that must reach its folder.
    chmodSync(root, 0o755);
    const port = await freePort();
    const pg = await startEmbeddedPostgres({ dataDir: path.join(root, "pg"), port, database: DATABASE });
    await applyMigrations(pg.databaseUrl);
    const regions = [A, B, SYNC].map((id) => ({ id, name: id }));
    const settings = {
      databaseUrl: pg.databaseUrl,
      storageDir: path.join(root, "storage"),
      adminApiKey: ADMIN,
      queuePrefix: `mvg-faults-${backend}-${process.pid}`,
      redisUrl: backend === "redis" ? TEST_REDIS_URL : undefined,
      leaseMs: LEASE_MS,
      historicalSyncDelayMs: 300,
      reconcileIntervalMs: 2000,
      regions,
    };
    const env: NodeJS.ProcessEnv = {
      DATABASE_URL: settings.databaseUrl,
      REDIS_URL: settings.redisUrl ?? "",
      QUEUE_PREFIX: settings.queuePrefix,
      STORAGE_DIR: settings.storageDir,
      LEASE_MS: String(LEASE_MS),
      RECONCILE_INTERVAL_MS: "2000",
      HISTORICAL_SYNC_DELAY_MS: "300",
      REGIONS: regions.map((r) => r.id).join(","),
      // Copies slow enough to be killed in the middle of one.
      COPY_BANDWIDTH_LIMIT: String(1024 * 1024),
      // Every object the workers put, so a round can count the writes per chunk (writeLog.ts).
      FAULT_WRITE_LOG: path.join(root, "writes.log"),
    };
    const services = await createServices(settings);
    const yoga = createGateway(services);
    const request = (body: unknown, apiKey?: string) =>
      yoga.fetch("http://gateway.test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
        body: JSON.stringify(body),
      });
    // A loaded machine may make a connection to the cluster time out: such an answer (UNAVAILABLE) is retried.
    const gql = async (apiKey: string, query: string, variables?: Record<string, unknown>) => {
      for (let attempt = 1; ; attempt++) {
        const body = (await (await request({ query, variables }, apiKey)).json()) as {
          data?: any;
          errors?: { extensions?: { code?: string } }[];
        };
        const unavailable = body.errors?.some((e) => e.extensions?.code === "UNAVAILABLE");
        if (unavailable && attempt < 5) {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          continue;
        }
        if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
        return body.data;
      }
    };
    const gw = { services, yoga, request, gql } as unknown as TestGateway;
    const http = createHttpServer(services);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const inProcess = await startWorkers(services, services.config, [A]);
    const world = new FaultWorld(backend, root, pg, port, services, gw, http, inProcess, env, log);
    await world.setUp();
    return world;
  }

  /** Region B's mirror of a source with COMPLETE, DIFFERENTIAL and LOG backups; a target there; a sync source. */
  private async setUp() {
    const { gw } = this;
    const created = await gw.gql(
      ADMIN,
      `mutation { createAccount(input: {name: "faults"}) { ... on CreateAccountPayload { apiKey } } }`,
    );
    this.key = created.createAccount.apiKey;
    await Promise.all([this.spawnWorker(B), this.spawnWorker(B), this.spawnWorker(SYNC), this.spawnWorker(SYNC)]);
    const vault = await createSourceVault(gw, this.key, A, "faults-restore");
    const instance = await registerInstance(gw, this.key, A, vault, { sid: "FR1" });
    this.restoreSource = { vault, instance, sid: "FR1" };
    await writeRows(gw, this.key, instance, "FR1", 10_000);
    await writeRows(gw, this.key, instance, "FR1", 10_000);
    await takeBackup(gw, this.key, A, instance, "FR1", "COMPLETE");
    await writeRows(gw, this.key, instance, "FR1", 3_000);
    await takeBackup(gw, this.key, A, instance, "FR1", "DIFFERENTIAL");
    this.expected = await writeRows(gw, this.key, instance, "FR1", 2_000);
    await takeBackup(gw, this.key, A, instance, "FR1", "LOG");
    this.mirror = await this.createMirror(vault, B);
    await this.rows.replication(uuidOf(this.mirror), (r) => r.historicalSyncStatus === "COMPLETED", 180_000);
    const targetVault = await createSourceVault(gw, this.key, B, "faults-dr");
    this.target = await registerInstance(gw, this.key, B, targetVault, { sid: "DR1" });

    const syncVault = await createSourceVault(gw, this.key, A, "faults-sync");
    const syncInstance = await registerInstance(gw, this.key, A, syncVault, { sid: "FS1" });
    const backups: string[] = [];
    await writeRows(gw, this.key, syncInstance, "FS1", 6_000);
    backups.push((await takeBackup(gw, this.key, A, syncInstance, "FS1", "COMPLETE")).id);
    for (let i = 0; i < 4; i++) {
      await writeRows(gw, this.key, syncInstance, "FS1", 2_000);
      backups.push((await takeBackup(gw, this.key, A, syncInstance, "FS1", "LOG")).id);
    }
    this.syncSource = { vault: syncVault, instance: syncInstance, sid: "FS1", backups };
    this.log(`set up: restore chain COMPLETE+DIFFERENTIAL+LOG mirrored to ${B}; 5 backups to sync`);
  }

  async createMirror(sourceVault: string, regionId: string): Promise<string> {
    const data = await this.gw.gql(
      this.key,
      `mutation($s: ID!, $r: String!) { createMirrorVault(input: {sourceVaultId: $s, regionId: $r, name: "m"}) {
        ... on VaultPayload { vault { id } } ... on Error { code message } } }`,
      { s: sourceVault, r: regionId },
    );
    if (!data.createMirrorVault.vault) throw new Error(JSON.stringify(data.createMirrorVault));
    return data.createMirrorVault.vault.id;
  }

  async deleteVault(vault: string) {
    const data = await this.gw.gql(
      this.key,
      `mutation($id: ID!) { deleteVault(input: {vaultId: $id}) { __typename ... on Error { code message } } }`,
      { id: vault },
    );
    if (data.deleteVault.code) throw new Error(`deleteVault: ${data.deleteVault.message}`);
  }

  /** A restore of FR1 from B's mirror into the target instance (replacing it). */
  async startRestore(): Promise<string> {
    const data = await this.gw.gql(
      this.key,
      `mutation($input: RestoreFromMirrorInput!) { restoreFromMirror(input: $input) {
        ... on RestorePayload { restore { id } } ... on Error { code message } } }`,
      {
        input: {
          mirrorVaultId: this.mirror,
          sourceInstanceId: this.restoreSource.instance,
          sourceDatabaseName: "FR1",
          targetInstanceId: this.target,
          mode: "RECOVERY_TO_MOST_RECENT",
          overwrite: true,
        },
      },
    );
    if (!data.restoreFromMirror.restore) throw new Error(JSON.stringify(data.restoreFromMirror));
    return uuidOf(data.restoreFromMirror.restore.id);
  }

  async cancelRestore(restoreId: string): Promise<string> {
    const data = await this.gw.gql(
      this.key,
      `mutation($id: ID!) { cancelRestore(input: {restoreId: $id}) {
        ... on RestorePayload { restore { status } } ... on Error { code message } } }`,
      { id: encodeGlobalID("Restore", restoreId) },
    );
    return data.cancelRestore.restore?.status ?? `${data.cancelRestore.code}: ${data.cancelRestore.message}`;
  }

  /** Starts one worker process of `regionId` (ready when it says so). */
  async spawnWorker(regionId: string): Promise<GatewayProcess> {
    const n = ++this.spawned;
    const proc = await startProcess(
      `worker-${regionId}-${n}`,
      ["jobs/main.ts", "--region", regionId],
      // The restore workers' runs can't tell they lost their lease: the fence alone stops a woken one.
      regionId === B ? { ...this.env, FAULT_STALE_LEASE: "1" } : this.env,
      /workers running for/,
      this.started,
      300_000,
      [
        process.execPath,
        "--import",
        "tsx",
        "--import",
        "./test/faults/writeLog.ts",
        "--import",
        "./test/faults/staleLease.ts",
      ],
    );
    const set = this.workers.get(regionId) ?? new Set();
    set.add(proc);
    this.workers.set(regionId, set);
    return proc;
  }

  /**
   * SIGKILLs the worker process whose pid owns a lease (or, `freeze`, SIGSTOPs it and returns its SIGCONT); false
   * when no process of ours has that pid.
   */
  async killOwner(owner: string | null | undefined, freeze = false): Promise<boolean | (() => GatewayProcess)> {
    const pid = pidOf(owner);
    for (const [regionId, set] of this.workers) {
      for (const proc of set) {
        if (proc.child.pid !== pid || proc.child.exitCode !== null) continue;
        if (freeze) {
          proc.child.kill("SIGSTOP");
          this.log(`  SIGSTOP ${proc.name} (pid ${pid}, ${regionId})`);
          return () => {
            proc.child.kill("SIGCONT");
            return proc;
          };
        }
        set.delete(proc);
        await killAll(new Set([proc]));
        this.started.delete(proc);
        this.log(`  SIGKILL ${proc.name} (pid ${pid}, ${regionId})`);
        return true;
      }
    }
    return false;
  }

  async stopWorkers(regionId: string) {
    const set = this.workers.get(regionId) ?? new Set();
    await killAll(set);
    for (const proc of set) this.started.delete(proc);
    this.workers.delete(regionId);
  }

  /** Wipes every queue of the world (the queues' own data only, as a FLUSHALL would lose it). */
  async flushQueues(regionIds: string[]) {
    await loseQueueData(this.services, [A, B, ...regionIds]);
    await reconcileOnce(this.services, [A]);
  }

  async ready(): Promise<number> {
    const { port } = this.http.address() as { port: number };
    return (await fetch(`http://127.0.0.1:${port}/ready`)).status;
  }

  async stopPostgres() {
    await this.pg.stop();
  }

  async startPostgres() {
    this.pg = await startEmbeddedPostgres({ dataDir: path.join(this.root, "pg"), port: this.port, database: DATABASE });
  }

  async close() {
    await killAll(this.started);
    await this.inProcess.close().catch(() => {});
    await closeJobListeners();
    await new Promise((resolve) => this.http.close(resolve));
    await this.services.close().catch(() => {});
    if (this.backend === "redis") {
      const { deleteRedisPrefix } = await import("../support/backends.ts");
      await deleteRedisPrefix(this.services.config.queuePrefix);
    }
    await this.pg.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}

export { A, B, SYNC };
