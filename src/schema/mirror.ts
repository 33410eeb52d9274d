// Mirror vaults: createMirrorVault, Vault.replication and the vaultReplicationUpdated subscription (SSE).
import { createGraphQLError } from "graphql-yoga";
import { builder } from "../api/builder.ts";
import { accountOf, type Context } from "../api/context.ts";
import { decodeId } from "../api/ids.ts";
import { clearLoaders, type ReplicationView } from "../api/loaders.ts";
import { Conflict, type DomainError, FailedPrecondition, Forbidden, InvalidInput, NotFound } from "../domain/errors.ts";
import { historicalProgress } from "../domain/mirrors/historicalSync.ts";
import { createMirrorVault } from "../domain/mirrors/mirrorVaults.ts";
import { vaultDescription, vaultName } from "../domain/vaults.ts";
import type { Vault as VaultRow } from "../generated/prisma/client.ts";
import { resultUnion } from "./errors.ts";
import { Region } from "./region.ts";
import { Vault, VaultPayload } from "./vault.ts";
import { watchRow } from "./watchRow.ts";

export const SyncStatus = builder.enumType("SyncStatus", {
  values: {
    SCHEDULED: { description: "waiting for its start time" },
    RUNNING: {},
    COMPLETED: {},
    FAILED: {},
  } as const,
});

export const Replication = builder.objectRef<ReplicationView>("Replication").implement({
  fields: (t) => ({
    sourceRegion: t.field({ type: Region, resolve: (r, _a, ctx) => ctx.services.regions.get(r.sourceRegionId) }),
    targetRegion: t.field({ type: Region, resolve: (r, _a, ctx) => ctx.services.regions.get(r.targetRegionId) }),
    historicalSyncStatus: t.expose("historicalSyncStatus", { type: SyncStatus }),
    historicalSyncScheduledAt: t.expose("historicalSyncScheduledAt", {
      type: "DateTime",
      description: "mirror creation + the historical sync delay (90 minutes by default)",
    }),
    historicalSyncStartedAt: t.expose("historicalSyncStartedAt", { type: "DateTime", nullable: true }),
    historicalSyncCompletedAt: t.expose("historicalSyncCompletedAt", { type: "DateTime", nullable: true }),
    historicalProgress: t.float({ description: "0..100", resolve: (r) => historicalProgress(r) }),
    latestReplicationTime: t.expose("latestReplicationTime", {
      type: "DateTime",
      nullable: true,
      description: "when the newest backup copy landed in the mirror",
    }),
    replicatedBackupCount: t.exposeInt("replicatedBackupCount"),
    pendingBackupCount: t.exposeInt("pendingBackupCount", { description: "source backups not yet in the mirror" }),
    message: t.string({
      nullable: true,
      description:
        "why the historical sync or the latest copy into the mirror failed (a store unreachable, credentials refused...); the work is retried with backoff, and this is null again once a copy lands",
      resolve: (r) => r.historicalMessage ?? r.copyMessage,
    }),
  }),
});

// Selected with the vault itself (one statement for a whole page): the row, and the counters the database keeps on
// the mirror (its copies) and on its source (its COMPLETE backups; copies exist only of COMPLETE backups).
builder.prismaObjectFields("Vault", (t) => ({
  replication: t.field({
    type: Replication,
    nullable: true,
    description: "set on a MIRROR",
    select: { kind: true, backupCount: true, replication: true, sourceVault: { select: { backupCount: true } } },
    resolve: (vault): ReplicationView | null => {
      if (vault.kind !== "MIRROR" || !vault.replication) return null;
      const replicated = vault.backupCount;
      const pending = Math.max(0, (vault.sourceVault?.backupCount ?? 0) - replicated);
      return { ...vault.replication, replicatedBackupCount: replicated, pendingBackupCount: pending };
    },
  }),
}));

const CreateMirrorVaultInput = builder.inputType("CreateMirrorVaultInput", {
  fields: (t) => ({
    sourceVaultId: t.id({ required: true }),
    regionId: t.string({ required: true }),
    name: t.string({ required: true, description: "1..32 characters", validate: vaultName }),
    description: t.string({ validate: vaultDescription }),
  }),
});

builder.mutationField("createMirrorVault", (t) =>
  t.field({
    type: VaultPayload,
    authScopes: { account: true },
    errors: resultUnion("CreateMirrorVaultResult", [InvalidInput, NotFound, Conflict, FailedPrecondition, Forbidden]),
    args: { input: t.arg({ type: CreateMirrorVaultInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const sourceVaultId = decodeId("Vault", input.sourceVaultId, ["input", "sourceVaultId"]);
      const vault = await createMirrorVault(ctx.services, accountOf(ctx), { ...input, sourceVaultId });
      return { vault };
    },
  }),
);

builder.subscriptionType({});

builder.subscriptionField("vaultReplicationUpdated", (t) =>
  t.field({
    type: Vault,
    description: "a mirror's replication progress",
    args: { vaultId: t.arg.id({ required: true }) },
    subscribe: (_root, { vaultId }, ctx) => watchVault(ctx, vaultId),
    resolve: (vault) => vault,
  }),
);

/** The caller's vault now, then again on every "vault:replication" event, until the client closes or it goes. */
async function* watchVault(ctx: Context, globalId: string): AsyncGenerator<VaultRow> {
  if (ctx.viewer.kind !== "account") {
    throw createGraphQLError("only an account's API key may subscribe", { extensions: { code: "FORBIDDEN" } });
  }
  const accountId = ctx.viewer.accountId;
  const { db, events } = ctx.services;
  let vaultId: string;
  try {
    vaultId = decodeId("Vault", globalId, ["vaultId"]);
  } catch (error) {
    throw createGraphQLError((error as DomainError).message, { extensions: { code: "NOT_FOUND" } });
  }
  const first = await db.vault.findFirst({ where: { id: vaultId, accountId } });
  if (!first) throw createGraphQLError(`no vault with id "${globalId}"`, { extensions: { code: "NOT_FOUND" } });
  // Events say "look again"; watchRow also re-reads every second, so an event lost in flight costs a second.
  const rows = watchRow(
    { bus: events, topic: "vault:replication", id: vaultId },
    async () => {
      clearLoaders(ctx.loaders);
      return db.vault.findFirst({
        where: { id: vaultId, accountId },
        include: { replication: true, _count: { select: { copies: true } } },
      });
    },
    (vault) => (vault ? JSON.stringify([vault.name, vault.status, vault.replication, vault._count.copies]) : "gone"),
    (vault) => vault === null,
  );
  for await (const vault of rows) {
    if (!vault) return;
    const { replication: _r, _count: _c, ...row } = vault;
    yield row;
  }
}
