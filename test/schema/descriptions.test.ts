// Docs that are true: every item of the served schema is described, and every GraphQL snippet of the README is
// valid against it (quoted "<placeholders>" stand for variables of the type their position needs).
import { readFileSync } from "node:fs";
import { buildSchema, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { schema, unusedDescriptions } from "../../src/schema/index.ts";
import { documentsFor, extractSnippets, withPlaceholderVariables } from "./readmeSnippets.ts";
import { undescribed } from "./undescribed.ts";

const root = new URL("../../", import.meta.url);

describe("descriptions", () => {
  it("every type, field, argument and enum value of the served schema has one", () => {
    const { items, missing } = undescribed(schema);
    expect(items).toBeGreaterThan(300);
    expect(missing).toEqual([]);
  });

  it("the committed schema.graphql carries them all too", () => {
    const printed = buildSchema(readFileSync(new URL("schema.graphql", root), "utf8"));
    expect(undescribed(printed).missing).toEqual([]);
  });

  it("the catalogue names nothing that is gone (src/schema/descriptionCatalogue.ts)", () => {
    expect(unusedDescriptions).toEqual([]);
  });

  it("counts what is missing (a type without descriptions is found)", () => {
    const bare = buildSchema("type Query { a(b: Int): E } enum E { X }");
    expect(undescribed(bare).missing.sort()).toEqual(["E", "E.X", "Query", "Query.a", "Query.a(b)"]);
  });
});

describe("README GraphQL snippets", () => {
  const readme = readFileSync(new URL("README.md", root), "utf8");
  const snippets = extractSnippets(readme)
    .map((snippet) => ({ snippet, documents: documentsFor(schema, snippet) }))
    .filter((entry) => entry.documents !== null);

  it("finds the README's blocks, curl queries and inline snippets", () => {
    const sources = new Set(snippets.map((entry) => entry.snippet.source));
    expect([...sources].sort()).toEqual(["curl", "graphql block", "inline"]);
    expect(snippets.length).toBeGreaterThanOrEqual(15);
  });

  for (const { snippet, documents } of snippets) {
    it(`line ${snippet.line} (${snippet.source}): ${snippet.text.slice(0, 60).replace(/\s+/g, " ")}`, () => {
      const errorsPerReading = (documents ?? []).map((text) =>
        withPlaceholderVariables(schema, text).flatMap((document) => validate(schema, document).map((e) => e.message)),
      );
      // A selection snippet may fit any of the types that have its field; one reading must be valid.
      const valid = errorsPerReading.find((errors) => errors.length === 0);
      expect(valid ?? errorsPerReading[0]).toEqual([]);
    });
  }

  it("catches the snippets that did not paste: a shorthand, a field without braces, a missing selection", () => {
    const documents = (text: string) => documentsFor(schema, { line: 0, source: "inline", text }) ?? [];
    const [shorthand] = documents("mutation { updateVault(input: { vaultId, name }) { __typename } }");
    expect(() => withPlaceholderVariables(schema, shorthand)).toThrow(/Syntax Error/);
    const [bare] = documents('node(id: "<vault id>") { id }');
    expect(() => withPlaceholderVariables(schema, bare)).toThrow(/Syntax Error/);
    const [noSelection] = documents('mutation { simulateHanaWrites(input: "<input>") }');
    const errors = withPlaceholderVariables(schema, noSelection).flatMap((d) => validate(schema, d));
    expect(errors.map((e) => e.message).join()).toMatch(/must have a selection of subfields/);
  });
});
