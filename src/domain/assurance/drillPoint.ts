// Where a drill run restores to: MOST_RECENT is the planner's most recent point; RANDOM_POINT_IN_TIME a position
// drawn uniformly from the window's restorable ranges (so every run proves another point of the window).
import { randomInt } from "node:crypto";
import type { DrillMode } from "../../generated/prisma/client.ts";
import type { ChainWindow } from "../restores/recoveryWindow.ts";

/** The log position to restore to; null: the most recent point (or nothing restorable: the planner says why). */
export function pickDrillPoint(mode: DrillMode, window: ChainWindow | null): bigint | null {
  if (mode === "MOST_RECENT" || !window || window.ranges.length === 0) return null;
  const sizes = window.ranges.map((r) => r.to.position - r.from.position + 1n);
  const total = sizes.reduce((sum, size) => sum + size, 0n);
  // randomInt takes safe integers: a window of more than 2^48 positions is drawn at a coarser grain.
  const grain = total > 2n ** 48n ? total / 2n ** 48n + 1n : 1n;
  let offset = BigInt(randomInt(Number(total / grain))) * grain;
  for (const [i, range] of window.ranges.entries()) {
    if (offset < sizes[i]!) return range.from.position + offset;
    offset -= sizes[i]!;
  }
  return window.latest?.position ?? null;
}
