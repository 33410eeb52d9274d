// Recoverability (contract: assurance.graphql): a mirror's recovery windows and RPO target, the restore time
// estimate of a plan, and what a finished restore took.
import { builder } from "../api/builder.ts";
import { estimateRestoreSeconds, restoreDurationSeconds, restoreThroughput } from "../domain/assurance/rto.ts";
import type { RecoveryWindow } from "../domain/assurance/windows.ts";
import { readStoredPlan } from "../domain/restores/index.ts";
import type { LogGap } from "../domain/restores/recoveryWindow.ts";
import { HanaInstance } from "./hana.ts";
import { RestorePlanType } from "./restore.ts";

const LogGapType = builder.objectRef<LogGap>("LogGap").implement({
  description: "log positions after the earliest restorable point that the mirror's copies can not restore to",
  fields: (t) => ({
    fromPosition: t.field({
      type: "BigInt",
      description: "first log position the mirror lacks",
      resolve: (gap) => gap.from,
    }),
    toPosition: t.field({
      type: "BigInt",
      description: "last log position the mirror lacks",
      resolve: (gap) => gap.to,
    }),
  }),
});

const RecoveryWindowType = builder.objectRef<RecoveryWindow>("RecoveryWindow").implement({
  description: "what the mirror's copies alone can restore of one source database, and what a region loss would cost",
  fields: (t) => ({
    sourceInstance: t.field({
      type: HanaInstance,
      description: "the SAP HANA instance the database belongs to",
      resolve: async (w, _a, ctx) => {
        const instance = await ctx.loaders.hanaInstance.load(w.sourceInstanceId);
        if (!instance) throw new Error(`instance ${w.sourceInstanceId} of a recovery window is gone`);
        return instance;
      },
    }),
    databaseName: t.string({ description: "the source database", resolve: (w) => w.databaseName }),
    earliestTime: t.field({
      type: "DateTime",
      nullable: true,
      description: "oldest point in time restorable from the mirror's copies alone; null: nothing restorable yet",
      resolve: (w) => w.earliest?.time ?? null,
    }),
    latestTime: t.field({
      type: "DateTime",
      nullable: true,
      description: "newest commit restorable from the mirror's copies alone",
      resolve: (w) => w.latest?.time ?? null,
    }),
    latestLogPosition: t.field({
      type: "BigInt",
      nullable: true,
      description: "log position of the newest restorable commit",
      resolve: (w) => w.latest?.position ?? null,
    }),
    gaps: t.field({
      type: [LogGapType],
      description: "log ranges after the earliest mirrored COMPLETE backup that the mirror lacks",
      resolve: (w) => w.gaps,
    }),
    sourceLatestTime: t.field({
      type: "DateTime",
      nullable: true,
      description: "newest commit of the source database, as last seen by its backups",
      resolve: (w) => w.sourceLatest?.time ?? null,
    }),
    rpoSeconds: t.float({
      nullable: true,
      description:
        "sourceLatestTime - latestTime: committed data a loss of the source region now would lose; null when nothing is restorable",
      resolve: (w) => w.rpoSeconds,
    }),
    rpoBreached: t.boolean({
      description: "rpoSeconds is over the mirror's rpoTargetSeconds, or nothing is restorable while a target is set",
      resolve: (w) => w.rpoBreached,
    }),
  }),
});

builder.prismaObjectFields("Vault", (t) => ({
  recoveryWindows: t.field({
    type: [RecoveryWindowType],
    description: "on a MIRROR: one per source database that has backups; [] on a SOURCE",
    select: { kind: true, sourceVaultId: true, rpoTargetSeconds: true },
    resolve: (v, _a, ctx) => ctx.loaders.recoveryWindows.load(v),
  }),
  rpoTargetSeconds: t.exposeInt("rpoTargetSeconds", {
    nullable: true,
    description: "on a MIRROR: the recovery point objective; crossing it raises RPO_BREACHED",
  }),
}));

builder.objectField(RestorePlanType, "estimatedDurationSeconds", (t) =>
  t.float({
    description:
      "from the throughput of the recent completed restores in the mirror's region (50 MiB/s before there are any)",
    resolve: async (plan, _a, ctx) =>
      estimateRestoreSeconds(plan.totalBytes, await ctx.loaders.restoreThroughput.load(plan.regionId)),
  }),
);

builder.prismaObjectFields("Restore", (t) => ({
  durationSeconds: t.float({
    nullable: true,
    description: "startedAt to completedAt",
    select: { startedAt: true, completedAt: true },
    resolve: (r) => restoreDurationSeconds(r),
  }),
  throughputBytesPerSecond: t.float({
    nullable: true,
    description: "plan.totalBytes / durationSeconds",
    select: { startedAt: true, completedAt: true, plan: true },
    resolve: (r) => restoreThroughput({ ...r, totalBytes: readStoredPlan(r.plan).totalBytes }),
  }),
}));
