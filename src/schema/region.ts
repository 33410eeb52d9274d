import { builder } from "../api/builder.ts";
import type { RegionInfo } from "../config.ts";

export const Region = builder.objectRef<RegionInfo>("Region").implement({
  fields: (t) => ({
    id: t.exposeString("id", { description: 'region code, e.g. "cn-hangzhou"' }),
    name: t.exposeString("name", { description: 'e.g. "China (Hangzhou)"' }),
  }),
});

builder.queryField("regions", (t) =>
  t.field({
    type: [Region],
    authScopes: { account: true, admin: true },
    resolve: (_r, _a, ctx) => ctx.services.regions.all,
  }),
);
