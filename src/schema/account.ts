import { builder } from "../api/builder.ts";
import { accountOf } from "../api/context.ts";
import { visibleAccount } from "../api/viewer.ts";
import { accountName, createAccount } from "../domain/accounts.ts";
import { Forbidden, InvalidInput } from "../domain/errors.ts";
import type { Account as AccountRow } from "../generated/prisma/client.ts";
import { resultUnion } from "./errors.ts";

export const Account = builder.prismaNode("Account", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, AND: [{ id: visibleAccount(ctx) }] }),
  fields: (t) => ({
    name: t.exposeString("name"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const CreateAccountInput = builder.inputType("CreateAccountInput", {
  fields: (t) => ({ name: t.string({ required: true, validate: accountName }) }),
});

const CreateAccountPayload = builder
  .objectRef<{ account: AccountRow; apiKey: string }>("CreateAccountPayload")
  .implement({
    fields: (t) => ({
      account: t.expose("account", { type: Account }),
      apiKey: t.exposeString("apiKey", { description: "shown once; only its hash is stored" }),
    }),
  });

builder.queryField("viewer", (t) =>
  t.prismaField({
    type: "Account",
    authScopes: { account: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.services.db.account.findUniqueOrThrow({ ...query, where: { id: accountOf(ctx) } }),
  }),
);

builder.mutationField("createAccount", (t) =>
  t.field({
    type: CreateAccountPayload,
    description: "platform admin only",
    authScopes: { admin: true },
    errors: resultUnion("CreateAccountResult", [InvalidInput, Forbidden]),
    args: { input: t.arg({ type: CreateAccountInput, required: true }) },
    resolve: (_root, { input }, ctx) => createAccount(ctx.services.db, input.name),
  }),
);
