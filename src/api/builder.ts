import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import ValidationPlugin from "@pothos/plugin-validation";
import { DateTimeResolver } from "graphql-scalars";
import { Forbidden, InvalidInput } from "../domain/errors.ts";
import type PrismaTypes from "../generated/pothos-types.ts";
import { getDatamodel } from "../generated/pothos-types.ts";
import type { Context } from "./context.ts";
import { decodeNodeId } from "./ids.ts";

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: { account: boolean; admin: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    BigInt: { Input: bigint; Output: bigint | number | string };
    ID: { Input: string; Output: string };
  };
  Connection: { totalCount: number | (() => number | Promise<number>) };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}>({
  // The errors plugin comes before scope-auth so refused scopes become ForbiddenError results.
  plugins: [ErrorsPlugin, ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ValidationPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({ account: ctx.viewer.kind === "account", admin: ctx.viewer.kind === "admin" }),
    unauthorizedError: (_parent, ctx) =>
      new Forbidden(
        ctx.viewer.kind === "admin"
          ? "the platform admin key may only create accounts; use an account's API key"
          : "only the platform admin (ADMIN_API_KEY) may do this",
      ),
  },
  prisma: {
    client: (ctx) => ctx.services.db,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    maxConnectionSize: 100,
    defaultConnectionSize: 20,
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    decodeGlobalID: decodeNodeId,
    nodeQueryOptions: { nullable: true },
    nodesQueryOptions: {
      nullable: { list: false, items: true },
      // Checked before any id is looked up (NODES_MAX_IDS).
      resolve: (_root, args, ctx, _info, resolveNodes) => {
        const max = ctx.services.config.nodesMaxIds;
        if (args.ids.length > max) throw new InvalidInput(`nodes takes at most ${max} ids (got ${args.ids.length})`);
        return resolveNodes(args.ids);
      },
    },
  },
  // Validation failures become InvalidInputError results too (they carry no data, so returning them before auth is safe).
  errors: { defaultTypes: [], unsafelyHandleInputErrors: true },
  validation: {
    validationError: (result) =>
      new InvalidInput(
        result.issues.map((issue) => issue.message).join("; "),
        result.issues.map((issue) => ({
          path: (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)),
          message: issue.message,
        })),
      ),
  },
});

const MAX_BIGINT = 2n ** 63n - 1n;

builder.addScalarType("DateTime", DateTimeResolver);
builder.scalarType("BigInt", {
  description: "serialized as a decimal string (byte counts, log positions, HANA backup ids)",
  serialize: (value) => String(value),
  parseValue: (value) => {
    if ((typeof value !== "string" && typeof value !== "number") || !/^\d{1,19}$/.test(String(value))) {
      throw new InvalidInput("BigInt must be a non-negative integer written as a decimal string");
    }
    const parsed = BigInt(value);
    // Log positions and sizes are stored as PostgreSQL bigint.
    if (parsed > MAX_BIGINT) throw new InvalidInput(`BigInt must be at most ${MAX_BIGINT}`);
    return parsed;
  },
});

builder.queryType({});
builder.mutationType({});
