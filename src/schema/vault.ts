import { builder } from "../api/builder.ts";
import { accountOf } from "../api/context.ts";
import { decodeId } from "../api/ids.ts";
import { visibleAccount } from "../api/viewer.ts";
import { Conflict, FailedPrecondition, Forbidden, InvalidInput, NotFound } from "../domain/errors.ts";
import { deleteVault } from "../domain/vaultDeletion.ts";
import { updateVault, vaultDescription, vaultName } from "../domain/vaults.ts";
import type { Prisma, Vault as VaultRow } from "../generated/prisma/client.ts";
import { keysetPage, pageOf } from "./connections.ts";
import { resultUnion } from "./errors.ts";
import { Region } from "./region.ts";

export const VaultKind = builder.enumType("VaultKind", { values: ["SOURCE", "MIRROR"] as const });
export const VaultStatus = builder.enumType("VaultStatus", {
  values: ["INITIALIZING", "CREATED", "ERROR", "DELETING"] as const,
});

export const Vault = builder.prismaNode("Vault", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: visibleAccount(ctx) }),
  fields: (t) => ({
    name: t.exposeString("name"),
    description: t.exposeString("description", { nullable: true }),
    kind: t.expose("kind", { type: VaultKind }),
    status: t.expose("status", { type: VaultStatus }),
    region: t.field({ type: Region, resolve: (v, _a, ctx) => ctx.services.regions.get(v.regionId) }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    sourceVault: t.relation("sourceVault", { nullable: true, description: "set on a MIRROR" }),
    mirror: t.relation("mirror", { nullable: true, description: "set on a SOURCE that has a mirror" }),
    // Counters the database keeps on the vault's row (migration vault_counters): no query of their own.
    backupCount: t.exposeInt("backupCount", {
      description: "backups stored in this vault (for a mirror: the copies it holds)",
    }),
    storedBytes: t.expose("storedBytes", { type: "BigInt" }),
  }),
});

const VaultFilter = builder.inputType("VaultFilter", {
  fields: (t) => ({
    regionId: t.string(),
    kind: t.field({ type: VaultKind }),
    nameContains: t.string(),
  }),
});

builder.queryField("vaults", (t) =>
  t.prismaConnection(
    {
      type: "Vault",
      cursor: "createdAt_id",
      authScopes: { account: true },
      args: { filter: t.arg({ type: VaultFilter }) },
      totalCount: (_conn, { filter }, ctx) =>
        ctx.services.db.vault.count({ where: vaultWhere(accountOf(ctx), filter) }),
      resolve: (query, _root, { filter }, ctx) => {
        const { after, ...page } = keysetPage(query, "createdAt");
        return pageOf(
          ctx.services.db.vault.findMany({
            ...page,
            // The page and its relations (mirror, replication, the source's counter) in one statement.
            relationLoadStrategy: "join",
            where: { AND: [vaultWhere(accountOf(ctx), filter), after] },
            orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          }),
        );
      },
    },
    { name: "VaultConnection" },
    { name: "VaultEdge" },
  ),
);

function vaultWhere(
  accountId: string,
  filter?: { regionId?: string | null; kind?: "SOURCE" | "MIRROR" | null; nameContains?: string | null } | null,
): Prisma.VaultWhereInput {
  return {
    accountId,
    ...(filter?.regionId ? { regionId: filter.regionId } : {}),
    ...(filter?.kind ? { kind: filter.kind } : {}),
    ...(filter?.nameContains ? { name: { contains: filter.nameContains, mode: "insensitive" } } : {}),
  };
}

export const VaultPayload = builder
  .objectRef<{ vault: VaultRow }>("VaultPayload")
  .implement({ fields: (t) => ({ vault: t.expose("vault", { type: Vault }) }) });

const UpdateVaultInput = builder.inputType("UpdateVaultInput", {
  fields: (t) => ({
    vaultId: t.id({ required: true }),
    name: t.string({ validate: vaultName }),
    description: t.string({ validate: vaultDescription }),
    rpoTargetSeconds: t.int({
      description: "MIRROR only: the recovery point objective in seconds, 60..604800; null clears it",
    }),
  }),
});

builder.mutationField("updateVault", (t) =>
  t.field({
    type: VaultPayload,
    authScopes: { account: true },
    errors: resultUnion("UpdateVaultResult", [InvalidInput, NotFound, Forbidden, Conflict]),
    args: { input: t.arg({ type: UpdateVaultInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const vaultId = decodeId("Vault", input.vaultId, ["input", "vaultId"]);
      return { vault: await updateVault(ctx.services.db, accountOf(ctx), vaultId, input) };
    },
  }),
);

const DeleteVaultInput = builder.inputType("DeleteVaultInput", {
  fields: (t) => ({ vaultId: t.id({ required: true }) }),
});
const DeleteVaultPayload = builder
  .objectRef<{ deletedVaultId: string }>("DeleteVaultPayload")
  .implement({ fields: (t) => ({ deletedVaultId: t.exposeID("deletedVaultId") }) });

builder.mutationField("deleteVault", (t) =>
  t.field({
    type: DeleteVaultPayload,
    authScopes: { account: true },
    errors: resultUnion("DeleteVaultResult", [NotFound, FailedPrecondition, Forbidden]),
    args: { input: t.arg({ type: DeleteVaultInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const vaultId = decodeId("Vault", input.vaultId, ["input", "vaultId"]);
      await deleteVault(ctx.services, accountOf(ctx), vaultId);
      return { deletedVaultId: input.vaultId };
    },
  }),
);
