// The plan on the Restore row is JSON; reading it back goes through its schema.
import { describe, expect, it } from "vitest";
import { readStoredPlan, storePlan, UnreadablePlan } from "../../../src/domain/restores/storedPlan.ts";
import { plan, standard } from "./fixtures.ts";

describe("the stored restore plan", () => {
  it("reads back exactly what was stored (bigints and times included)", async () => {
    const planned = await plan(standard());
    const stored = JSON.parse(JSON.stringify(storePlan(planned)));
    expect(readStoredPlan(stored)).toEqual(planned);
  });

  it("refuses what is not a plan, saying where", async () => {
    const stored = storePlan(await plan(standard()));
    const cases: [unknown, RegExp][] = [
      [null, /unreadable: plan: /],
      [{ ...stored, targetLogPosition: "forty" }, /targetLogPosition: expected a non-negative integer/],
      [{ ...stored, steps: [] }, /steps: /],
      [{ ...stored, steps: stored.steps.slice(1) }, /the first step must load the data backup/],
      [{ ...stored, targetTime: "yesterday" }, /targetTime: /],
      [{ ...stored, steps: [{ ...stored.steps[0], action: "GUESS" }] }, /steps\.0\.action: /],
    ];
    for (const [json, message] of cases) {
      const error = (() => {
        try {
          readStoredPlan(json);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error, JSON.stringify(json)).toBeInstanceOf(UnreadablePlan);
      expect(error!.message).toMatch(/^the stored restore plan is unreadable: /);
      expect(error!.message).toMatch(message);
    }
  });
});
