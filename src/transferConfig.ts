// Bandwidth limits of cross-region copies from the environment (README "Configuration"): COPY_BANDWIDTH_LIMIT for
// every region pair, COPY_BANDWIDTH_<FROM>__<TO> for one pair (region ids upper-cased, "-" as "_"); bytes/s,
// 0 or unset: unlimited.

/** Bytes/s per region pair; null: unlimited. `perPair` is keyed by "<from>><to>" region ids. */
export type CopyBandwidth = { defaultBytesPerSecond: number | null; perPair: Record<string, number | null> };

const PREFIX = "COPY_BANDWIDTH_";

/** How a region id appears in a variable's name: cn-hangzhou → CN_HANGZHOU. */
export function envRegionName(regionId: string): string {
  return regionId.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

function bytesPerSecond(name: string, raw: string): number | null {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number of bytes/s (0: unlimited)`);
  return value || null;
}

export function copyBandwidthFromEnv(env: NodeJS.ProcessEnv, regions: { id: string }[]): CopyBandwidth {
  const limit = env.COPY_BANDWIDTH_LIMIT;
  const result: CopyBandwidth = {
    defaultBytesPerSecond: limit ? bytesPerSecond("COPY_BANDWIDTH_LIMIT", limit) : null,
    perPair: {},
  };
  const byEnvName = new Map(regions.map((region) => [envRegionName(region.id), region.id]));
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) || name === "COPY_BANDWIDTH_LIMIT" || !raw) continue;
    const [from, to, ...rest] = name.slice(PREFIX.length).split("__");
    const fromId = byEnvName.get(from);
    const toId = byEnvName.get(to ?? "");
    // A typo in a region name would silently leave the pair unlimited: refuse to start instead.
    if (!fromId || !toId || rest.length)
      throw new Error(`${name}: expected ${PREFIX}<FROM>__<TO> of configured regions`);
    result.perPair[`${fromId}>${toId}`] = bytesPerSecond(name, raw);
  }
  return result;
}
