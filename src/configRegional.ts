// The variables whose names follow REGIONS, in the one configuration schema (src/config.ts, README "Configuration"):
// STORAGE_<REGION> (a region's blob store) and COPY_BANDWIDTH_<FROM>__<TO> (one pair's copy bandwidth), region ids
// upper-cased with "-" as "_". Each value is checked by its kind and each name against REGIONS, so a typo stops the
// start (one line naming the variable, never its credentials) instead of leaving a region on the default store or a
// pair unlimited.
import { z } from "zod";
import { whole } from "./configValues.ts";
import {
  parseStorageUrl,
  type RegionStorageSpec,
  StorageConfigError,
  storageVariable,
} from "./storage/storageConfig.ts";
import { type CopyBandwidth, envRegionName } from "./transferConfig.ts";

/** The patterns, as the README's configuration table writes them. */
export const REGIONAL_VARIABLES = ["STORAGE_<REGION>", "COPY_BANDWIDTH_<FROM>__<TO>"] as const;

const STORAGE = "STORAGE_";
const BANDWIDTH = "COPY_BANDWIDTH_";

/** Bytes/s; 0 or unset: unlimited (null). */
export const bytesPerSecond = whole(0).transform((value) => value || null);

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== "";

/** Each variable's value by its kind; an issue's path ends in the variable's name. */
export const regionalValues = z.object({
  /** Parsed once the names are resolved: another program's STORAGE_* variable is none of ours (below). */
  storage: z.record(z.string(), z.string()),
  copyBandwidth: z.record(z.string(), bytesPerSecond),
});

/**
 * The environment's variables of both patterns that are set; `fixed` (the schema's own names, e.g. STORAGE_DIR) aside.
 * Blank is unset, as for every other variable.
 */
export function regionalInput(env: NodeJS.ProcessEnv, fixed: ReadonlySet<string>) {
  const matching = (prefix: string) =>
    Object.fromEntries(
      Object.entries(env).filter(([name, value]) => name.startsWith(prefix) && !fixed.has(name) && isSet(value)),
    );
  return { storage: matching(STORAGE), copyBandwidth: matching(BANDWIDTH) };
}

/** Resolves the names against REGIONS; an unknown one is an issue at its name. */
export function resolveRegional(
  values: z.output<typeof regionalValues>,
  regions: readonly { id: string }[],
  defaultBytesPerSecond: number | null,
  ctx: z.RefinementCtx,
): { storageSpecs: ReadonlyMap<string, RegionStorageSpec>; copyBandwidth: CopyBandwidth } {
  const known = regions.map((region) => region.id).join(", ");
  const unknown = (variable: string, expected: string) =>
    ctx.addIssue({
      code: "custom",
      path: [variable],
      message: `expected ${expected} of configured regions (${known})`,
    });

  const storageSpecs = new Map<string, RegionStorageSpec>();
  const regionOfStorage = new Map(regions.map((region) => [storageVariable(region.id), region.id]));
  for (const [variable, value] of Object.entries(values.storage)) {
    const regionId = regionOfStorage.get(variable);
    if (!regionId) {
      // A store's URL under a name of no configured region is a typo that would leave the region on the default
      // store; any other value is another program's variable (e.g. STORAGE_EMULATOR_HOST) and none of ours.
      if (/^\s*(s3|file):/i.test(value)) unknown(variable, REGIONAL_VARIABLES[0]);
      continue;
    }
    try {
      storageSpecs.set(regionId, { ...parseStorageUrl(value), variable });
    } catch (error) {
      if (!(error instanceof StorageConfigError)) throw error;
      // The reason never echoes the value: it carries the credentials.
      ctx.addIssue({ code: "custom", path: [variable], message: error.message });
    }
  }

  const copyBandwidth: CopyBandwidth = { defaultBytesPerSecond, perPair: {} };
  const regionOfName = new Map(regions.map((region) => [envRegionName(region.id), region.id]));
  for (const [variable, limit] of Object.entries(values.copyBandwidth)) {
    const [from, to, ...rest] = variable.slice(BANDWIDTH.length).split("__");
    const fromId = regionOfName.get(from);
    const toId = regionOfName.get(to ?? "");
    if (fromId && toId && !rest.length) copyBandwidth.perPair[`${fromId}>${toId}`] = limit;
    else unknown(variable, REGIONAL_VARIABLES[1]);
  }
  return { storageSpecs, copyBandwidth };
}
