import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // A 2-core machine: one test file at a time (each spawns processes of its own).
    fileParallelism: false,
  },
});
