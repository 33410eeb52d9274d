// Restore drills (contract: assurance.graphql): scheduled restores from a mirror into a scratch tenant that prove
// the mirror restores, and their runs.
import { builder } from "../api/builder.ts";
import { accountOf } from "../api/context.ts";
import { decodeId } from "../api/ids.ts";
import { visibleAccount } from "../api/viewer.ts";
import { startDrillRun } from "../domain/assurance/drillRuns.ts";
import { drillNextRunAt } from "../domain/assurance/drillSchedule.ts";
import { createRestoreDrill, deleteRestoreDrill, findDrill, updateRestoreDrill } from "../domain/assurance/drills.ts";
import { Conflict, FailedPrecondition, Forbidden, InvalidInput, NotFound } from "../domain/errors.ts";
import type { RestoreDrill as DrillRow, DrillRun as DrillRunRow } from "../generated/prisma/client.ts";
import { pageOf } from "./connections.ts";
import { resultUnion } from "./errors.ts";

const DrillMode = builder.enumType("DrillMode", {
  description: "which point a drill run restores to",
  values: {
    MOST_RECENT: { description: "the newest point the mirror can restore" },
    RANDOM_POINT_IN_TIME: { description: "a random point inside the recovery window, a different one each run" },
  } as const,
});

const DrillRunStatus = builder.enumType("DrillRunStatus", {
  description: "where a drill run stands",
  values: {
    RUNNING: { description: "its restore is under way" },
    PASSED: { description: "the restore completed and its validation succeeded" },
    FAILED: { description: "it could not start, it failed, or validation failed: message says which" },
  } as const,
});

export const RestoreDrill = builder.prismaNode("RestoreDrill", {
  nullable: true,
  description: "a scheduled restore from a mirror into a scratch tenant the drill owns, proving the mirror restores",
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: visibleAccount(ctx) }),
  fields: (t) => ({
    name: t.exposeString("name", { description: "1..64 characters" }),
    mirrorVault: t.relation("mirrorVault", { description: "the mirror vault the drill restores from" }),
    sourceInstance: t.relation("sourceInstance", { description: "the instance whose database is restored" }),
    sourceDatabaseName: t.exposeString("sourceDatabaseName", { description: "the database restored" }),
    targetInstance: t.relation("targetInstance", { description: "registered in the mirror's region" }),
    targetDatabaseName: t.exposeString("targetDatabaseName", {
      description: "a scratch tenant that the drill owns and replaces on every run",
    }),
    mode: t.expose("mode", { type: DrillMode, description: "which point each run restores to" }),
    intervalMinutes: t.exposeInt("intervalMinutes", { description: "15..10080" }),
    enabled: t.exposeBoolean("enabled", { description: "false: the drill runs only when asked (runRestoreDrill)" }),
    nextRunAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "null when disabled",
      select: { id: true, enabled: true, intervalMinutes: true, mirrorVault: { select: { regionId: true } } },
      resolve: (drill, _a, ctx) => drillNextRunAt(ctx.services, drill),
    }),
    lastRun: t.field({
      type: DrillRun,
      nullable: true,
      description: "the newest run",
      select: { id: true },
      resolve: (drill, _a, ctx) =>
        ctx.services.db.drillRun.findFirst({
          where: { drillId: drill.id },
          orderBy: [{ startedAt: "desc" }, { id: "desc" }],
        }),
    }),
    runs: t.relatedConnection(
      "runs",
      {
        description: "newest first",
        cursor: "startedAt_id",
        totalCount: true,
        query: () => ({ orderBy: [{ startedAt: "desc" as const }, { id: "desc" as const }] }),
      },
      { name: "DrillRunConnection", description: "a page of drill runs" },
      { name: "DrillRunEdge", description: "a drill run and its cursor" },
    ),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "when the drill was created" }),
  }),
});

export const DrillRun = builder.prismaNode("DrillRun", {
  nullable: true,
  description: "one run of a restore drill",
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: visibleAccount(ctx) }),
  fields: (t) => ({
    drill: t.relation("drill", { description: "the drill this run belongs to" }),
    status: t.expose("status", { type: DrillRunStatus, description: "RUNNING, then PASSED or FAILED" }),
    restore: t.relation("restore", { nullable: true, description: "null when no restore could be started" }),
    pointInTime: t.expose("pointInTime", {
      type: "DateTime",
      nullable: true,
      description: "the point this run restored to",
    }),
    rpoSeconds: t.exposeFloat("rpoSeconds", {
      nullable: true,
      description: "the mirror's RPO for the database when the run started",
    }),
    rtoSeconds: t.exposeFloat("rtoSeconds", {
      nullable: true,
      description: "measured: run start to validated restore",
    }),
    message: t.exposeString("message", { nullable: true, description: "what happened, and why a run FAILED" }),
    startedAt: t.expose("startedAt", { type: "DateTime", description: "when the run started" }),
    completedAt: t.expose("completedAt", { type: "DateTime", nullable: true, description: "when the run ended" }),
  }),
});

builder.queryField("restoreDrills", (t) =>
  t.prismaConnection(
    {
      type: "RestoreDrill",
      description: "the account's restore drills, oldest first",
      cursor: "createdAt_id",
      authScopes: { account: true },
      totalCount: (_c, _a, ctx) => ctx.services.db.restoreDrill.count({ where: { accountId: accountOf(ctx) } }),
      resolve: (query, _r, _a, ctx) =>
        pageOf(
          ctx.services.db.restoreDrill.findMany({
            ...query,
            where: { accountId: accountOf(ctx) },
            orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          }),
        ),
    },
    { name: "RestoreDrillConnection", description: "a page of restore drills" },
    { name: "RestoreDrillEdge", description: "a restore drill and its cursor" },
  ),
);

const CreateRestoreDrillInput = builder.inputType("CreateRestoreDrillInput", {
  description: "a new restore drill",
  fields: (t) => ({
    name: t.string({ required: true, description: "1..64 characters" }),
    mirrorVaultId: t.id({ required: true, description: "the mirror vault to restore from" }),
    sourceInstanceId: t.id({ required: true, description: "the instance whose database is restored" }),
    sourceDatabaseName: t.string({ required: true, description: "the database restored" }),
    targetInstanceId: t.id({ required: true, description: "an INITIALIZED instance in the mirror's region" }),
    targetDatabaseName: t.string({
      required: true,
      description: "never SYSTEMDB, never a database of the target that this drill did not create",
    }),
    mode: t.field({ type: DrillMode, defaultValue: "MOST_RECENT", description: "which point each run restores to" }),
    intervalMinutes: t.int({ defaultValue: 1440, description: "15..10080" }),
    enabled: t.boolean({ defaultValue: true, description: "false: runs only when asked" }),
  }),
});

const UpdateRestoreDrillInput = builder.inputType("UpdateRestoreDrillInput", {
  description: "changes to a restore drill (unset fields stay)",
  fields: (t) => ({
    drillId: t.id({ required: true, description: "the drill to change" }),
    name: t.string({ description: "1..64 characters" }),
    mode: t.field({ type: DrillMode, description: "which point each run restores to" }),
    intervalMinutes: t.int({ description: "15..10080" }),
    enabled: t.boolean({ description: "false: no scheduled runs" }),
  }),
});

const DrillIdInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({ drillId: t.id({ required: true, description: "the restore drill" }) }),
  });
const DeleteRestoreDrillInput = DrillIdInput("DeleteRestoreDrillInput", "the restore drill to delete");
const RunRestoreDrillInput = DrillIdInput("RunRestoreDrillInput", "the restore drill to run now");

const RestoreDrillPayload = builder.objectRef<{ drill: DrillRow }>("RestoreDrillPayload").implement({
  description: "the restore drill as it is now",
  fields: (t) => ({ drill: t.expose("drill", { type: RestoreDrill, description: "the drill" }) }),
});
const DeleteRestoreDrillPayload = builder.objectRef<{ deletedDrillId: string }>("DeleteRestoreDrillPayload").implement({
  description: "the deleted drill's id",
  fields: (t) => ({ deletedDrillId: t.exposeID("deletedDrillId", { description: "the id the drill had" }) }),
});
const DrillRunPayload = builder.objectRef<{ run: DrillRunRow }>("DrillRunPayload").implement({
  description: "the run that started (it may already have FAILED when no restore could start)",
  fields: (t) => ({ run: t.expose("run", { type: DrillRun, description: "the run" }) }),
});

const drillId = (id: string) => decodeId("RestoreDrill", id, ["input", "drillId"]);

builder.mutationField("createRestoreDrill", (t) =>
  t.field({
    type: RestoreDrillPayload,
    description: "creates a restore drill and schedules it",
    authScopes: { account: true },
    errors: resultUnion("CreateRestoreDrillResult", [InvalidInput, NotFound, Conflict, FailedPrecondition, Forbidden]),
    args: { input: t.arg({ type: CreateRestoreDrillInput, required: true, description: "the drill" }) },
    resolve: async (_r, { input }, ctx) => ({
      drill: await createRestoreDrill(ctx.services, accountOf(ctx), {
        ...input,
        mirrorVaultId: decodeId("Vault", input.mirrorVaultId, ["input", "mirrorVaultId"]),
        sourceInstanceId: decodeId("HanaInstance", input.sourceInstanceId, ["input", "sourceInstanceId"]),
        targetInstanceId: decodeId("HanaInstance", input.targetInstanceId, ["input", "targetInstanceId"]),
      }),
    }),
  }),
);

builder.mutationField("updateRestoreDrill", (t) =>
  t.field({
    type: RestoreDrillPayload,
    description: "changes a restore drill's name, mode, interval or whether it is enabled",
    authScopes: { account: true },
    errors: resultUnion("UpdateRestoreDrillResult", [InvalidInput, NotFound, Forbidden]),
    args: { input: t.arg({ type: UpdateRestoreDrillInput, required: true, description: "the changes" }) },
    resolve: async (_r, { input }, ctx) => ({
      drill: await updateRestoreDrill(ctx.services, accountOf(ctx), drillId(input.drillId), input),
    }),
  }),
);

builder.mutationField("deleteRestoreDrill", (t) =>
  t.field({
    type: DeleteRestoreDrillPayload,
    description: "deletes a restore drill, its runs and its schedule (its scratch tenant stays on the target)",
    authScopes: { account: true },
    errors: resultUnion("DeleteRestoreDrillResult", [NotFound, FailedPrecondition, Forbidden]),
    args: { input: t.arg({ type: DeleteRestoreDrillInput, required: true, description: "the drill" }) },
    resolve: async (_r, { input }, ctx) => {
      await deleteRestoreDrill(ctx.services, accountOf(ctx), drillId(input.drillId));
      return { deletedDrillId: input.drillId };
    },
  }),
);

builder.mutationField("runRestoreDrill", (t) =>
  t.field({
    type: DrillRunPayload,
    description: "start a run now, outside the schedule",
    authScopes: { account: true },
    errors: resultUnion("RunRestoreDrillResult", [NotFound, Conflict, FailedPrecondition, Forbidden]),
    args: { input: t.arg({ type: RunRestoreDrillInput, required: true, description: "the drill" }) },
    resolve: async (_r, { input }, ctx) => {
      const drill = await findDrill(ctx.services.db, accountOf(ctx), drillId(input.drillId));
      return { run: await startDrillRun(ctx.services, drill) };
    },
  }),
);
