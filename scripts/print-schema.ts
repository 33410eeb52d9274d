// `npm run schema`: prints the served schema to schema.graphql at the project root.
// With --check it writes nothing and exits 1 when schema.graphql is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { printSchema } from "graphql";
import { schema } from "../src/schema/index.ts";

const file = new URL("../schema.graphql", import.meta.url);
const printed = `${printSchema(schema)}\n`;
if (process.argv.includes("--check")) {
  const committed = readFileSync(file, "utf8");
  if (committed !== printed) {
    console.error("schema.graphql is stale: run `npm run schema`");
    process.exit(1);
  }
  console.log("schema.graphql is up to date");
} else {
  writeFileSync(file, printed);
  console.log("wrote schema.graphql");
}
