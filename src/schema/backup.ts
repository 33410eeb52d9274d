import { builder } from "../api/builder.ts";
import { accountOf } from "../api/context.ts";
import { decodeId, tryDecodeId } from "../api/ids.ts";
import { visibleAccount } from "../api/viewer.ts";
import { startHanaBackup } from "../domain/backups.ts";
import { FailedPrecondition, Forbidden, InvalidInput, NotFound } from "../domain/errors.ts";
import type { Backup as BackupRow, Prisma } from "../generated/prisma/client.ts";
import { keysetPage, pageOf } from "./connections.ts";
import { resultUnion } from "./errors.ts";
import { Vault } from "./vault.ts";
import { watchRow } from "./watchRow.ts";

export const BackupType = builder.enumType("BackupType", {
  values: ["COMPLETE", "DIFFERENTIAL", "INCREMENTAL", "LOG"] as const,
});
export const BackupStatus = builder.enumType("BackupStatus", { values: ["RUNNING", "COMPLETE", "FAILED"] as const });

export const Backup = builder.prismaNode("Backup", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: visibleAccount(ctx) }),
  fields: (t) => ({
    hanaBackupId: t.expose("hanaBackupId", { type: "BigInt", description: "HANA's numeric backup id" }),
    prefix: t.exposeString("prefix"),
    type: t.expose("type", { type: BackupType }),
    status: t.expose("status", { type: BackupStatus }),
    instance: t.relation("instance"),
    databaseName: t.exposeString("databaseName"),
    vault: t.relation("vault", { description: "the source vault" }),
    startedAt: t.expose("startedAt", { type: "DateTime" }),
    completedAt: t.expose("completedAt", { type: "DateTime", nullable: true }),
    sizeBytes: t.expose("sizeBytes", { type: "BigInt" }),
    logPositionStart: t.expose("logPositionStart", { type: "BigInt" }),
    logPositionEnd: t.expose("logPositionEnd", { type: "BigInt" }),
    coversUntil: t.expose("coversUntil", { type: "DateTime", nullable: true }),
    // One mirror per source, and a mirror's copies go with it: any copy is the current mirror's.
    mirroredAt: t.field({
      type: "DateTime",
      nullable: true,
      select: { copies: { select: { copiedAt: true }, take: 1 } },
      resolve: (backup) => backup.copies[0]?.copiedAt ?? null,
    }),
    message: t.exposeString("message", { nullable: true, description: "why a FAILED backup failed" }),
  }),
});

export const BackupFilter = builder.inputType("BackupFilter", {
  fields: (t) => ({
    instanceId: t.id(),
    databaseName: t.string(),
    type: t.field({ type: BackupType }),
    status: t.field({ type: BackupStatus }),
  }),
});

type BackupFilterValue = {
  instanceId?: string | null;
  databaseName?: string | null;
  type?: BackupRow["type"] | null;
  status?: BackupRow["status"] | null;
};

const hasFilter = (filter?: BackupFilterValue | null) =>
  Boolean(filter && (filter.instanceId || filter.databaseName || filter.type || filter.status));

/**
 * A source lists its own backups; a mirror lists the backups whose copy it holds, which are all its source's
 * (one mirror per source): naming the source vault lets PostgreSQL walk that vault's (startedAt, id) index.
 */
export function backupsInVault(
  vault: { id: string; kind: string; sourceVaultId?: string | null },
  filter?: BackupFilterValue | null,
): Prisma.BackupWhereInput {
  const instanceId = filter?.instanceId ? tryDecodeId("HanaInstance", filter.instanceId) : undefined;
  return {
    ...(vault.kind === "MIRROR"
      ? {
          copies: { some: { mirrorVaultId: vault.id } },
          ...(vault.sourceVaultId ? { vaultId: vault.sourceVaultId } : {}),
        }
      : { vaultId: vault.id }),
    ...(instanceId ? { instanceId } : {}),
    ...(filter?.databaseName ? { databaseName: filter.databaseName } : {}),
    ...(filter?.type ? { type: filter.type } : {}),
    ...(filter?.status ? { status: filter.status } : {}),
  };
}

builder.prismaObjectField("Vault", "backups", (t) =>
  t.prismaConnection(
    {
      type: "Backup",
      cursor: "startedAt_id",
      args: { filter: t.arg({ type: BackupFilter }) },
      // Unfiltered: the vault's own counter (kept by the database with every backup and copy written), no count;
      // with a filter: a count of the matching rows.
      totalCount: (vault, { filter }, ctx) =>
        hasFilter(filter)
          ? ctx.services.db.backup.count({ where: backupsInVault(vault, filter) })
          : vault.listedBackups,
      resolve: (query, vault, { filter }, ctx) => {
        const { after, ...page } = keysetPage(query, "startedAt");
        return pageOf(
          ctx.services.db.backup.findMany({
            ...page,
            where: { AND: [backupsInVault(vault, filter), after] },
            orderBy: [{ startedAt: "asc" }, { id: "asc" }],
          }),
        );
      },
    },
    { name: "BackupConnection" },
    { name: "BackupEdge" },
  ),
);

const StartHanaBackupInput = builder.inputType("StartHanaBackupInput", {
  fields: (t) => ({
    instanceId: t.id({ required: true }),
    databaseName: t.string({ required: true }),
    type: t.field({ type: BackupType, required: true }),
  }),
});

const BackupPayload = builder
  .objectRef<{ backup: BackupRow }>("BackupPayload")
  .implement({ fields: (t) => ({ backup: t.expose("backup", { type: Backup }) }) });

builder.mutationField("startHanaBackup", (t) =>
  t.field({
    type: BackupPayload,
    authScopes: { account: true },
    errors: resultUnion("StartHanaBackupResult", [InvalidInput, NotFound, FailedPrecondition, Forbidden]),
    args: { input: t.arg({ type: StartHanaBackupInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const instanceId = decodeId("HanaInstance", input.instanceId, ["input", "instanceId"]);
      return { backup: await startHanaBackup(ctx.services, accountOf(ctx), { ...input, instanceId }) };
    },
  }),
);

export { Vault };

builder.subscriptionField("backupUpdated", (t) =>
  t.field({
    type: Backup,
    description: "the backup now, then when it ends (COMPLETE or FAILED)",
    authScopes: { account: true },
    args: { backupId: t.arg.id({ required: true }) },
    subscribe: async function* (_r, { backupId }, ctx) {
      const id = decodeId("Backup", backupId, ["backupId"]);
      const accountId = accountOf(ctx);
      const owned = await ctx.services.db.backup.findFirst({ where: { id, accountId }, select: { id: true } });
      if (!owned) throw new NotFound(`no Backup with id "${backupId}"`);
      yield* watchRow(
        { bus: ctx.services.events, topic: "backup:updated", id: id },
        () => ctx.services.db.backup.findUniqueOrThrow({ where: { id } }),
        (row) => row.status,
        (row) => row.status !== "RUNNING",
      );
    },
    resolve: (backup: BackupRow) => backup,
  }),
);
