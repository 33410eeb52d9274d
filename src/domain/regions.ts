import type { RegionInfo } from "../config.ts";
import { InvalidInput } from "./errors.ts";

/** The region catalogue (from REGIONS); every region id the API accepts must be in it. */
export class RegionCatalogue {
  private readonly byId: Map<string, RegionInfo>;
  constructor(readonly all: RegionInfo[]) {
    this.byId = new Map(all.map((region) => [region.id, region]));
  }
  get(id: string): RegionInfo {
    const region = this.byId.get(id);
    // A region id stored earlier but since dropped from the catalogue still renders.
    return region ?? { id, name: id };
  }
  /** Throws INVALID_INPUT naming the known regions. */
  require(id: string, path: string[]): RegionInfo {
    const region = this.byId.get(id);
    if (!region) {
      throw InvalidInput.field(path, `unknown region "${id}"; known regions: ${this.all.map((r) => r.id).join(", ")}`);
    }
    return region;
  }
}
