// The README's rules index maps each rule R1..R18 of DESIGN.md to the function that enforces it and the test
// named after it. This keeps the index true: every function it names exists, and every rule has a test.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const RULES = Array.from({ length: 18 }, (_, i) => `R${i + 1}`);

type IndexRow = { rule: string; functions: { name: string; file: string }[]; testFile: string };

/** Rows of the README's "Rules index" table: `| R1 | what | `fn` (`src/...`) ... | `test/...` |`. */
function readIndex(): IndexRow[] {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const section = readme.split(/^## Rules index$/m)[1]?.split(/^## /m)[0] ?? "";
  return section
    .split("\n")
    .filter((line) => /^\|\s*R\d+\s*\|/.test(line))
    .map((line) => {
      const cells = line.split("|").map((cell) => cell.trim());
      const functions = [...cells[3].matchAll(/`(\w+)` \(`([^`]+)`\)/g)].map(([, name, file]) => ({ name, file }));
      return { rule: cells[1], functions, testFile: cells[4].replaceAll("`", "") };
    });
}

/** Titles of it()/test() calls in every test file, with the rule ids their names start with ("R7/R18: ..."). */
function ruleTests(): Map<string, string[]> {
  const byRule = new Map<string, string[]>();
  const files = readdirSync(path.join(root, "test"), { recursive: true, encoding: "utf8" }).filter((f) =>
    f.endsWith(".test.ts"),
  );
  for (const file of files) {
    const text = readFileSync(path.join(root, "test", file), "utf8");
    for (const [, ids] of text.matchAll(/\b(?:it|test)\(\s*"((?:R\d+\/?)+):/g)) {
      for (const id of ids.split("/").filter(Boolean)) byRule.set(id, [...(byRule.get(id) ?? []), `test/${file}`]);
    }
  }
  return byRule;
}

describe("rules index", () => {
  const index = readIndex();
  const tests = ruleTests();

  it("lists every rule R1..R18 once, each with a function and a test file", () => {
    expect(index.map((row) => row.rule)).toEqual(RULES);
    for (const row of index) {
      expect(row.functions.length, row.rule).toBeGreaterThan(0);
      expect(row.testFile, row.rule).toMatch(/^test\/.+\.test\.ts$/);
    }
  });

  it("names functions that exist where it says", () => {
    for (const row of index) {
      for (const fn of row.functions) {
        const source = readFileSync(path.join(root, fn.file), "utf8");
        const exported = new RegExp(`export (async )?(function\\*? |const |class )${fn.name}\\b`);
        expect(exported.test(source), `${row.rule}: ${fn.name} in ${fn.file}`).toBe(true);
      }
    }
  });

  it("every rule has a test named after it, in the file the index names", () => {
    for (const rule of RULES) {
      expect(tests.get(rule), `no test title starts with "${rule}:"`).toBeDefined();
      const row = index.find((r) => r.rule === rule);
      expect(tests.get(rule), `${rule}'s tests are not in ${row?.testFile}`).toContain(row?.testFile);
    }
  });
});
