import { defineConfig } from "vitest/config";

export default defineConfig({
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
