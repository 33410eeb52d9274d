import { builder } from "../api/builder.ts";
import { accountOf } from "../api/context.ts";
import { decodeId, tryDecodeId } from "../api/ids.ts";
import { visibleAccount } from "../api/viewer.ts";
import { Conflict, FailedPrecondition, Forbidden, InvalidInput, NotFound } from "../domain/errors.ts";
import {
  cancelRestore,
  findRestore,
  type PlanStep,
  planRestoreFor,
  type RestoreInput,
  type RestorePlan,
  readStoredPlan,
  restoreFromMirror,
} from "../domain/restores/index.ts";
import { TERMINAL_RESTORE_STATUSES } from "../domain/vaults.ts";
import type { Prisma, Restore as RestoreRow } from "../generated/prisma/client.ts";
import { Backup } from "./backup.ts";
import { pageOf } from "./connections.ts";
import { resultUnion } from "./errors.ts";
import { watchRow } from "./watchRow.ts";

const RestoreMode = builder.enumType("RestoreMode", {
  values: [
    "RECOVERY_TO_MOST_RECENT",
    "RECOVERY_TO_POINT_IN_TIME",
    "RECOVERY_TO_SPECIFIC_BACKUP",
    "RECOVERY_TO_LOG_POSITION",
  ] as const,
});
const RestoreStatus = builder.enumType("RestoreStatus", {
  values: [
    "CREATED",
    "QUEUED",
    "RUNNING",
    "COMPLETE",
    "PARTIAL_COMPLETE",
    "FAILED",
    "CANCELING",
    "CANCELED",
    "EXPIRED",
  ] as const,
});
const ValidationStatus = builder.enumType("ValidationStatus", { values: ["PENDING", "SUCCESSFUL", "FAILED"] as const });

const RestoreStep = builder.objectRef<PlanStep>("RestoreStep").implement({
  fields: (t) => ({
    order: t.exposeInt("order"),
    backup: t.field({
      type: Backup,
      resolve: async (step, _a, ctx) => {
        const backup = await ctx.loaders.backup.load(step.backupId);
        if (!backup) throw new Error(`backup ${step.backupId} of the plan is gone`);
        return backup;
      },
    }),
    action: t.exposeString("action", { description: 'e.g. "LOAD_DATA", "APPLY_DELTA", "REPLAY_LOG"' }),
  }),
});

/** A plan and the region of the mirror it reads (for its restore time estimate). */
export type RestorePlanView = RestorePlan & { regionId: string };

export const RestorePlanType = builder.objectRef<RestorePlanView>("RestorePlan").implement({
  fields: (t) => ({
    steps: t.field({ type: [RestoreStep], resolve: (plan) => plan.steps }),
    targetTime: t.expose("targetTime", {
      type: "DateTime",
      nullable: true,
      description: "the commit time the restore will reach",
    }),
    targetLogPosition: t.field({ type: "BigInt", resolve: (plan) => plan.targetLogPosition }),
    totalBytes: t.field({ type: "BigInt", resolve: (plan) => plan.totalBytes }),
    recoverStatement: t.exposeString("recoverStatement", { description: "the SAP HANA SQL the target cluster runs" }),
  }),
});

const RestoreValidation = builder
  .objectRef<{ status: RestoreRow["validationStatus"]; expectedDigest: string | null; actualDigest: string | null }>(
    "RestoreValidation",
  )
  .implement({
    fields: (t) => ({
      status: t.expose("status", { type: ValidationStatus }),
      expectedDigest: t.exposeString("expectedDigest", { nullable: true }),
      actualDigest: t.exposeString("actualDigest", { nullable: true }),
    }),
  });

export const Restore = builder.prismaNode("Restore", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: visibleAccount(ctx) }),
  fields: (t) => ({
    status: t.expose("status", { type: RestoreStatus }),
    phase: t.exposeString("phase", { nullable: true }),
    progress: t.exposeFloat("progress"),
    mode: t.expose("mode", { type: RestoreMode }),
    mirrorVault: t.relation("mirrorVault"),
    sourceInstance: t.relation("sourceInstance"),
    sourceDatabaseName: t.exposeString("sourceDatabaseName"),
    targetInstance: t.relation("targetInstance"),
    targetDatabaseName: t.exposeString("targetDatabaseName"),
    pointInTime: t.expose("pointInTime", { type: "DateTime", nullable: true }),
    logPosition: t.expose("logPosition", { type: "BigInt", nullable: true }),
    backup: t.relation("backup", { nullable: true }),
    plan: t.field({
      type: RestorePlanType,
      select: { plan: true, mirrorVault: { select: { regionId: true } } },
      resolve: (r) => ({ ...readStoredPlan(r.plan), regionId: r.mirrorVault.regionId }),
    }),
    reachedTime: t.expose("reachedTime", { type: "DateTime", nullable: true }),
    reachedLogPosition: t.expose("reachedLogPosition", { type: "BigInt", nullable: true }),
    validation: t.field({
      type: RestoreValidation,
      select: { validationStatus: true, expectedDigest: true, actualDigest: true },
      resolve: (r) => ({ status: r.validationStatus, expectedDigest: r.expectedDigest, actualDigest: r.actualDigest }),
    }),
    message: t.exposeString("message", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    startedAt: t.expose("startedAt", { type: "DateTime", nullable: true }),
    completedAt: t.expose("completedAt", { type: "DateTime", nullable: true }),
  }),
});

const RestoreFilter = builder.inputType("RestoreFilter", {
  fields: (t) => ({ status: t.field({ type: RestoreStatus }), targetInstanceId: t.id() }),
});

function restoreWhere(
  accountId: string,
  filter?: { status?: RestoreRow["status"] | null; targetInstanceId?: string | null } | null,
) {
  const where: Prisma.RestoreWhereInput = { accountId };
  if (filter?.status) where.status = filter.status;
  if (filter?.targetInstanceId) where.targetInstanceId = tryDecodeId("HanaInstance", filter.targetInstanceId);
  return where;
}

builder.queryField("restores", (t) =>
  t.prismaConnection(
    {
      type: "Restore",
      cursor: "createdAt_id",
      authScopes: { account: true },
      args: { filter: t.arg({ type: RestoreFilter }) },
      totalCount: (_c, { filter }, ctx) =>
        ctx.services.db.restore.count({ where: restoreWhere(accountOf(ctx), filter) }),
      resolve: (query, _r, { filter }, ctx) =>
        pageOf(
          ctx.services.db.restore.findMany({
            ...query,
            where: restoreWhere(accountOf(ctx), filter),
            orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          }),
        ),
    },
    { name: "RestoreConnection" },
    { name: "RestoreEdge" },
  ),
);

const RestoreFromMirrorInput = builder.inputType("RestoreFromMirrorInput", {
  fields: (t) => ({
    mirrorVaultId: t.id({ required: true }),
    sourceInstanceId: t.id({ required: true }),
    sourceDatabaseName: t.string({ required: true }),
    targetInstanceId: t.id({ required: true }),
    targetDatabaseName: t.string(),
    mode: t.field({ type: RestoreMode, required: true }),
    pointInTime: t.field({ type: "DateTime" }),
    backupId: t.id(),
    logPosition: t.field({ type: "BigInt" }),
    useDelta: t.boolean({ defaultValue: true }),
    checkAccess: t.boolean({ defaultValue: true }),
    overwrite: t.boolean({ defaultValue: false }),
    idempotencyKey: t.string(),
  }),
});

/** The API speaks global ids; the domain takes the rows' UUIDs (anything that names no such row is NOT_FOUND). */
function restoreInputOf(input: RestoreInput): RestoreInput {
  return {
    ...input,
    mirrorVaultId: decodeId("Vault", input.mirrorVaultId, ["input", "mirrorVaultId"]),
    sourceInstanceId: decodeId("HanaInstance", input.sourceInstanceId, ["input", "sourceInstanceId"]),
    targetInstanceId: decodeId("HanaInstance", input.targetInstanceId, ["input", "targetInstanceId"]),
    backupId: input.backupId ? decodeId("Backup", input.backupId, ["input", "backupId"]) : null,
  };
}

builder.queryField("restorePlan", (t) =>
  t.field({
    type: RestorePlanType,
    description: "a dry run: what restoreFromMirror would do",
    authScopes: { account: true },
    errors: resultUnion("RestorePlanResult", [InvalidInput, NotFound, FailedPrecondition, Forbidden]),
    args: { input: t.arg({ type: RestoreFromMirrorInput, required: true }) },
    resolve: (_r, { input }, ctx) => planRestoreFor(ctx.services, accountOf(ctx), restoreInputOf(input)),
  }),
);

const RestorePayload = builder
  .objectRef<{ restore: RestoreRow }>("RestorePayload")
  .implement({ fields: (t) => ({ restore: t.expose("restore", { type: Restore }) }) });

builder.mutationField("restoreFromMirror", (t) =>
  t.field({
    type: RestorePayload,
    authScopes: { account: true },
    errors: resultUnion("RestoreFromMirrorResult", [InvalidInput, NotFound, Conflict, FailedPrecondition, Forbidden]),
    args: { input: t.arg({ type: RestoreFromMirrorInput, required: true }) },
    resolve: async (_r, { input }, ctx) => ({
      restore: await restoreFromMirror(ctx.services, accountOf(ctx), restoreInputOf(input)),
    }),
  }),
);

const CancelRestoreInput = builder.inputType("CancelRestoreInput", {
  fields: (t) => ({ restoreId: t.id({ required: true }) }),
});

builder.mutationField("cancelRestore", (t) =>
  t.field({
    type: RestorePayload,
    authScopes: { account: true },
    errors: resultUnion("CancelRestoreResult", [NotFound, FailedPrecondition, Forbidden]),
    args: { input: t.arg({ type: CancelRestoreInput, required: true }) },
    resolve: async (_r, { input }, ctx) => ({
      restore: await cancelRestore(
        ctx.services,
        accountOf(ctx),
        decodeId("Restore", input.restoreId, ["input", "restoreId"]),
      ),
    }),
  }),
);

const TERMINAL = new Set<string>(TERMINAL_RESTORE_STATUSES);

builder.subscriptionField("restoreUpdated", (t) =>
  t.field({
    type: Restore,
    description: "every status/phase/progress change until a terminal status",
    authScopes: { account: true },
    args: { restoreId: t.arg.id({ required: true }) },
    subscribe: async function* (_r, { restoreId }, ctx) {
      const id = decodeId("Restore", restoreId, ["restoreId"]);
      await findRestore(ctx.services, accountOf(ctx), id);
      yield* watchRow(
        { bus: ctx.services.events, topic: "restore:updated", id: id },
        () => ctx.services.db.restore.findUniqueOrThrow({ where: { id } }),
        (row) => `${row.status}/${row.phase}/${row.progress}`,
        (row) => TERMINAL.has(row.status),
      );
    },
    resolve: (restore: RestoreRow) => restore,
  }),
);
