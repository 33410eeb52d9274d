// The plan as stored on the Restore row (JSON: bigints and dates as strings). Read back through a schema, never
// cast: a row written by an older version, or edited by hand, is refused with a message instead of misread.
import { z } from "zod";
import type { RestorePlan } from "./plan.ts";

const decimal = z
  .string()
  .regex(/^(0|[1-9][0-9]*)$/, "expected a non-negative integer")
  .transform((text) => BigInt(text));

const storedPlanSchema = z
  .object({
    steps: z
      .array(
        z.object({
          order: z.number().int().positive(),
          backupId: z.string().min(1),
          action: z.enum(["LOAD_DATA", "APPLY_DELTA", "REPLAY_LOG"]),
        }),
      )
      .min(1),
    targetTime: z.iso
      .datetime()
      .transform((text) => new Date(text))
      .nullable(),
    targetLogPosition: decimal,
    totalBytes: decimal,
    recoverStatement: z.string().min(1),
  })
  // Refinements run even when a field already failed (zod reports every issue): guard what they read.
  .refine((plan) => plan.steps.length === 0 || plan.steps[0]?.action === "LOAD_DATA", {
    message: "the first step must load the data backup",
    path: ["steps", 0, "action"],
  })
  .refine((plan) => plan.steps.length === 0 || plan.steps.filter((s) => s.action === "LOAD_DATA").length === 1, {
    message: "exactly one step loads a data backup",
    path: ["steps"],
  });

/** The stored plan can't be read back; retrying won't change that. */
export class UnreadablePlan extends Error {
  override name = "UnreadablePlan";
}

export type StoredPlan = z.input<typeof storedPlanSchema>;

export function storePlan(plan: RestorePlan): StoredPlan {
  return {
    steps: plan.steps,
    targetTime: plan.targetTime?.toISOString() ?? null,
    targetLogPosition: plan.targetLogPosition.toString(),
    totalBytes: plan.totalBytes.toString(),
    recoverStatement: plan.recoverStatement,
  };
}

/** The plan of a Restore row; throws UnreadablePlan saying what is wrong with it. */
export function readStoredPlan(json: unknown): RestorePlan {
  const parsed = storedPlanSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "plan"}: ${i.message}`).join("; ");
  throw new UnreadablePlan(`the stored restore plan is unreadable: ${issues}`);
}
