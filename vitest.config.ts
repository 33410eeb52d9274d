import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // One graphql for all: Pothos (loaded by Node) gets graphql's CommonJS build, Vite would pick its .mjs for test
  // and source files, and graphql refuses types from "another module or realm".
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve("graphql") }] },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Files run in parallel, each against its own database, queue prefix and storage directory.
    pool: "forks",
    maxWorkers: 2,
    setupFiles: ["test/support/setup.ts"],
    // In-process services log warnings and errors only; processes a test starts log at info (their readiness line).
    env: { LOG_LEVEL: "warn" },
  },
});
