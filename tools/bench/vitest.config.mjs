import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // *.spec.mjs, not *.test.mjs: `node --test tools/` (pnpm test:tools) must not pick it up.
    include: ["tests/**/*.spec.mjs"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
