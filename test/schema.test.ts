import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

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

  it("covers the public contract (../shared/contract/schema.graphql)", () => {
    const result = run("node", ["../shared/tools/contract-check.mjs", "schema.graphql"]);
    expect(result.output.trim()).toBe("the served schema covers the contract");
    expect(result.code).toBe(0);
  });
});
