import { z } from "zod";
import { builder } from "../api/builder.ts";
import { accountOf } from "../api/context.ts";
import { decodeId } from "../api/ids.ts";
import { visibleAccount } from "../api/viewer.ts";
import { Conflict, FailedPrecondition, Forbidden, InvalidInput, NotFound } from "../domain/errors.ts";
import { deleteHanaInstance, findInstance, registerHanaInstance, simulateWrites } from "../domain/hanaInstances.ts";
import * as rules from "../domain/hanaRules.ts";
import type { HanaInstance as HanaInstanceRow } from "../generated/prisma/client.ts";
import type { HanaDatabaseState } from "../hana/connector.ts";
import { pageOf } from "./connections.ts";
import { resultUnion } from "./errors.ts";
import { Region } from "./region.ts";
import { watchRow } from "./watchRow.ts";

export const HanaDatabaseKind = builder.enumType("HanaDatabaseKind", { values: ["SYSTEM", "TENANT"] as const });

export const HanaDatabase = builder.objectRef<HanaDatabaseState>("HanaDatabase").implement({
  fields: (t) => ({
    name: t.exposeString("name"),
    kind: t.expose("kind", { type: HanaDatabaseKind }),
    running: t.exposeBoolean("running"),
    logPosition: t.expose("logPosition", { type: "BigInt", description: "newest committed log position" }),
    lastCommitTime: t.expose("lastCommitTime", { type: "DateTime", nullable: true }),
    contentDigest: t.exposeString("contentDigest"),
  }),
});

export const HanaInstanceStatus = builder.enumType("HanaInstanceStatus", {
  values: ["INITIALIZING", "INITIALIZED", "INVALID_HANA_NODE", "INITIALIZE_FAILED"] as const,
});

export const HanaInstance = builder.prismaNode("HanaInstance", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: visibleAccount(ctx) }),
  // passwordCipher is never selected into a response: there is deliberately no password field (R16).
  fields: (t) => ({
    name: t.exposeString("name"),
    sid: t.exposeString("sid"),
    instanceNumber: t.exposeString("instanceNumber"),
    host: t.exposeString("host"),
    ecsInstanceIds: t.exposeStringList("ecsInstanceIds"),
    userName: t.exposeString("userName"),
    useSsl: t.exposeBoolean("useSsl"),
    validateCertificate: t.exposeBoolean("validateCertificate"),
    region: t.field({ type: Region, resolve: (i, _a, ctx) => ctx.services.regions.get(i.regionId) }),
    vault: t.relation("vault"),
    status: t.expose("status", { type: HanaInstanceStatus }),
    statusMessage: t.exposeString("statusMessage", { nullable: true }),
    databases: t.field({
      type: [HanaDatabase],
      select: { id: true },
      resolve: (i, _a, ctx) => ctx.services.hana.listDatabases(i.id),
    }),
    logBackupIntervalSeconds: t.exposeInt("logBackupIntervalSeconds", {
      description: "automatic LOG backups run this often (HANA's default is 900 s)",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const HanaInstanceFilter = builder.inputType("HanaInstanceFilter", { fields: (t) => ({ regionId: t.string() }) });

function instanceWhere(accountId: string, filter?: { regionId?: string | null } | null) {
  return { accountId, ...(filter?.regionId ? { regionId: filter.regionId } : {}) };
}

builder.queryField("hanaInstances", (t) =>
  t.prismaConnection(
    {
      type: "HanaInstance",
      cursor: "createdAt_id",
      authScopes: { account: true },
      args: { filter: t.arg({ type: HanaInstanceFilter }) },
      totalCount: (_c, { filter }, ctx) =>
        ctx.services.db.hanaInstance.count({ where: instanceWhere(accountOf(ctx), filter) }),
      resolve: (query, _r, { filter }, ctx) =>
        pageOf(
          ctx.services.db.hanaInstance.findMany({
            ...query,
            where: instanceWhere(accountOf(ctx), filter),
            orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          }),
        ),
    },
    { name: "HanaInstanceConnection" },
    { name: "HanaInstanceEdge" },
  ),
);

const RegisterHanaInstanceInput = builder.inputType("RegisterHanaInstanceInput", {
  fields: (t) => ({
    regionId: t.string({ required: true }),
    vaultId: t.id({ required: true, description: "a SOURCE vault in the same region" }),
    name: t.string({ required: true, validate: rules.instanceName }),
    sid: t.string({ required: true, validate: rules.sid }),
    instanceNumber: t.string({ required: true, validate: rules.instanceNumber }),
    host: t.string({ required: true, validate: rules.host }),
    ecsInstanceIds: t.stringList({ required: true, validate: rules.ecsInstanceIds }),
    userName: t.string({ required: true, validate: rules.userName }),
    password: t.string({ required: true, validate: rules.password }),
    useSsl: t.boolean({ defaultValue: false }),
    validateCertificate: t.boolean({ defaultValue: false }),
  }),
});

const HanaInstancePayload = builder
  .objectRef<{ hanaInstance: HanaInstanceRow }>("HanaInstancePayload")
  .implement({ fields: (t) => ({ hanaInstance: t.expose("hanaInstance", { type: HanaInstance }) }) });

builder.mutationField("registerHanaInstance", (t) =>
  t.field({
    type: HanaInstancePayload,
    authScopes: { account: true },
    errors: resultUnion("RegisterHanaInstanceResult", [
      InvalidInput,
      NotFound,
      Conflict,
      FailedPrecondition,
      Forbidden,
    ]),
    args: { input: t.arg({ type: RegisterHanaInstanceInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const vaultId = decodeId("Vault", input.vaultId, ["input", "vaultId"]);
      return { hanaInstance: await registerHanaInstance(ctx.services, accountOf(ctx), { ...input, vaultId }) };
    },
  }),
);

const DeleteHanaInstanceInput = builder.inputType("DeleteHanaInstanceInput", {
  fields: (t) => ({ instanceId: t.id({ required: true }) }),
});
const DeleteHanaInstancePayload = builder
  .objectRef<{ deletedInstanceId: string }>("DeleteHanaInstancePayload")
  .implement({ fields: (t) => ({ deletedInstanceId: t.exposeID("deletedInstanceId") }) });

builder.mutationField("deleteHanaInstance", (t) =>
  t.field({
    type: DeleteHanaInstancePayload,
    authScopes: { account: true },
    errors: resultUnion("DeleteHanaInstanceResult", [NotFound, FailedPrecondition, Forbidden]),
    args: { input: t.arg({ type: DeleteHanaInstanceInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      await deleteHanaInstance(
        ctx.services,
        accountOf(ctx),
        decodeId("HanaInstance", input.instanceId, ["input", "instanceId"]),
      );
      return { deletedInstanceId: input.instanceId };
    },
  }),
);

const SimulateHanaWritesInput = builder.inputType("SimulateHanaWritesInput", {
  fields: (t) => ({
    instanceId: t.id({ required: true }),
    databaseName: t.string({ required: true }),
    transactions: t.int({
      required: true,
      validate: z.number().int().min(1, "transactions must be 1..10000").max(10_000, "transactions must be 1..10000"),
    }),
    rowsPerTransaction: t.int({
      defaultValue: 10,
      validate: z
        .number()
        .int()
        .min(1, "rowsPerTransaction must be 1..1000")
        .max(1000, "rowsPerTransaction must be 1..1000"),
    }),
    valueBytes: t.int({
      defaultValue: 64,
      description: "bytes per row value (1..65536), to make backups of a chosen size",
      validate: z.number().int().min(1, "valueBytes must be 1..65536").max(65_536, "valueBytes must be 1..65536"),
    }),
  }),
});

const SimulateHanaWritesPayload = builder
  .objectRef<{ database: HanaDatabaseState }>("SimulateHanaWritesPayload")
  .implement({ fields: (t) => ({ database: t.expose("database", { type: HanaDatabase }) }) });

builder.mutationField("simulateHanaWrites", (t) =>
  t.field({
    type: SimulateHanaWritesPayload,
    description: "simulator connector only",
    authScopes: { account: true },
    errors: resultUnion("SimulateHanaWritesResult", [InvalidInput, NotFound, FailedPrecondition, Forbidden]),
    args: { input: t.arg({ type: SimulateHanaWritesInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const instanceId = decodeId("HanaInstance", input.instanceId, ["input", "instanceId"]);
      return { database: await simulateWrites(ctx.services, accountOf(ctx), { ...input, instanceId }) };
    },
  }),
);

builder.subscriptionField("hanaInstanceUpdated", (t) =>
  t.field({
    type: HanaInstance,
    description:
      "the instance now, then on every status change until its connection check has ended (not INITIALIZING)",
    authScopes: { account: true },
    args: { instanceId: t.arg.id({ required: true }) },
    subscribe: async function* (_r, { instanceId }, ctx) {
      const id = decodeId("HanaInstance", instanceId, ["instanceId"]);
      await findInstance(ctx.services, accountOf(ctx), id);
      yield* watchRow(
        { bus: ctx.services.events, topic: "instance:updated", id: id },
        () => ctx.services.db.hanaInstance.findUniqueOrThrow({ where: { id } }),
        (row) => `${row.status}/${row.statusMessage}`,
        (row) => row.status !== "INITIALIZING",
      );
    },
    resolve: (instance: HanaInstanceRow) => instance,
  }),
);
