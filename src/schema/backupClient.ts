import { z } from "zod";
import { builder } from "../api/builder.ts";
import { accountOf } from "../api/context.ts";
import { visibleAccount } from "../api/viewer.ts";
import { Conflict, Forbidden, InvalidInput, NotFound } from "../domain/errors.ts";
import { createBackupClient, vaultDescription, vaultName } from "../domain/vaults.ts";
import type { BackupClient as BackupClientRow, Vault as VaultRow } from "../generated/prisma/client.ts";
import { resultUnion } from "./errors.ts";
import { Region } from "./region.ts";
import { Vault } from "./vault.ts";

export const BackupClient = builder.prismaNode("BackupClient", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: visibleAccount(ctx) }),
  fields: (t) => ({
    ecsInstanceId: t.exposeString("ecsInstanceId"),
    region: t.field({ type: Region, resolve: (c, _a, ctx) => ctx.services.regions.get(c.regionId) }),
    vault: t.relation("vault"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const CreateBackupClientInput = builder.inputType("CreateBackupClientInput", {
  fields: (t) => ({
    regionId: t.string({ required: true }),
    ecsInstanceId: t.string({
      required: true,
      validate: z
        .string()
        .trim()
        .min(1, "ecsInstanceId must not be empty")
        .max(64, "ecsInstanceId is at most 64 characters"),
    }),
    vaultName: t.string({
      required: true,
      validate: vaultName,
      description: "the source vault created with the client",
    }),
    vaultDescription: t.string({ validate: vaultDescription }),
  }),
});

const CreateBackupClientPayload = builder
  .objectRef<{ backupClient: BackupClientRow; vault: VaultRow }>("CreateBackupClientPayload")
  .implement({
    fields: (t) => ({
      backupClient: t.expose("backupClient", { type: BackupClient }),
      vault: t.expose("vault", { type: Vault }),
    }),
  });

builder.mutationField("createBackupClient", (t) =>
  t.field({
    type: CreateBackupClientPayload,
    authScopes: { account: true },
    errors: resultUnion("CreateBackupClientResult", [InvalidInput, NotFound, Forbidden, Conflict]),
    args: { input: t.arg({ type: CreateBackupClientInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      ctx.services.regions.require(input.regionId, ["input", "regionId"]);
      return createBackupClient(ctx.services.db, accountOf(ctx), input);
    },
  }),
);
