// What mirror copies sent between regions (RegionTransfer): for the platform admin and the operations metrics.
import { builder } from "../api/builder.ts";
import { type RegionTransferTotals, regionTransfers } from "../domain/mirrors/transfers.ts";
import { Region } from "./region.ts";

const RegionTransfer = builder.objectRef<RegionTransferTotals>("RegionTransfer").implement({
  description: "Bytes mirror copies actually sent from one region to another (deduplicated chunks not counted)",
  fields: (t) => ({
    sourceRegion: t.field({ type: Region, resolve: (r, _a, ctx) => ctx.services.regions.get(r.sourceRegionId) }),
    targetRegion: t.field({ type: Region, resolve: (r, _a, ctx) => ctx.services.regions.get(r.targetRegionId) }),
    bytesSent: t.expose("bytesSent", { type: "BigInt" }),
    chunksSent: t.expose("chunksSent", { type: "BigInt" }),
    copies: t.expose("copies", { type: "BigInt", description: "copies recorded into the target region" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

builder.queryField("regionTransfers", (t) =>
  t.field({
    type: [RegionTransfer],
    description: "platform admin only",
    authScopes: { admin: true },
    resolve: (_r, _a, ctx) => regionTransfers(ctx.services),
  }),
);
