// Bandwidth limits of cross-region copies (README "Configuration"): COPY_BANDWIDTH_LIMIT for every region pair,
// COPY_BANDWIDTH_<FROM>__<TO> for one pair; bytes/s, 0 or unset: unlimited. The configuration schema reads them
// (src/config.ts, src/configRegional.ts); the copies pace themselves by this shape (src/domain/mirrors/transfers.ts).

/** Bytes/s per region pair; null: unlimited. `perPair` is keyed by "<from>><to>" region ids. */
export type CopyBandwidth = { defaultBytesPerSecond: number | null; perPair: Record<string, number | null> };

/** How a region id appears in a variable's name: cn-hangzhou → CN_HANGZHOU. */
export function envRegionName(regionId: string): string {
  return regionId.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}
