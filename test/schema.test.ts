import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The contract lives beside the repository (../shared); a clone without it skips the check, and .ci/run runs it.
const CONTRACT_CHECK = "../shared/tools/contract-check.mjs";
const hasContract = existsSync(CONTRACT_CHECK);
if (!hasContract) {
  console.warn(`skipped: the contract check (${CONTRACT_CHECK} is absent; .ci/run runs it where ../shared exists)`);
}

function run(command: string, args: string[]): { code: number; output: string } {
  try {
    return { code: 0, output: execFileSync(command, args, { encoding: "utf8", stdio: "pipe" }) };
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    return { code: failed.status ?? 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

describe("the committed schema.graphql", () => {
  it("is what the server serves (run `npm run schema` after changing the API)", () => {
    const result = run("node", ["--import", "tsx", "scripts/print-schema.ts", "--check"]);
    expect(result.output).toContain("schema.graphql is up to date");
    expect(result.code).toBe(0);
  });

  it.skipIf(!hasContract)("covers the public contract (../shared/contract/schema.graphql)", () => {
    const result = run("node", [CONTRACT_CHECK, "schema.graphql"]);
    expect(result.output.trim()).toBe("the served schema covers the contract");
    expect(result.code).toBe(0);
  });
});
