// Per-request batch loaders of recoverability: a page of mirrors loads its recovery windows, their source
// instances and its regions' restore throughput with one query each, however many mirrors it shows.
import DataLoader from "dataloader";
import type { Db } from "../db/types.ts";
import { regionThroughputs } from "../domain/assurance/rto.ts";
import { type MirrorRef, type RecoveryWindow, recoveryWindows } from "../domain/assurance/windows.ts";
import type { HanaInstance } from "../generated/prisma/client.ts";

export function assuranceLoaders(db: Db) {
  return {
    recoveryWindows: new DataLoader<MirrorRef, RecoveryWindow[], string>(
      async (mirrors) => {
        const windows = await recoveryWindows(db, [...mirrors]);
        return mirrors.map((m) => windows.get(m.id) ?? []);
      },
      { cacheKeyFn: (mirror) => mirror.id },
    ),
    hanaInstance: new DataLoader<string, HanaInstance | null>(async (ids) => {
      const rows = await db.hanaInstance.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    restoreThroughput: new DataLoader<string, number>(async (regionIds) => {
      const byRegion = await regionThroughputs(db, [...regionIds]);
      return regionIds.map((id) => byRegion.get(id)!);
    }),
  };
}
