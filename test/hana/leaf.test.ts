// src/hana is a leaf (DESIGN.md "Seams"): it imports only its own files, Node's modules and `pg`; in particular not
// the domain, the product's database (Prisma), the API or the jobs.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";

const dir = path.resolve(import.meta.dirname, "../../src/hana");

it("src/hana imports nothing outside itself but node: modules and pg", () => {
  const outside: string[] = [];
  for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(path.join(dir, file), "utf8");
    for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
      const inside = specifier!.startsWith("./") && !path.normalize(specifier!).startsWith("..");
      if (!inside && !specifier!.startsWith("node:") && specifier !== "pg") outside.push(`${file}: ${specifier}`);
    }
  }
  expect(outside).toEqual([]);
});
