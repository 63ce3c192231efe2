/**
 * The Phase-1 conformance suite (core.md §13, ARCHITECTURE §9): every scenario, written
 * once in ./scenarios against the driver interface, run against every driver below. A new
 * way of reaching AeroDB (the server, a replica, an optimization switched on) is one more
 * entry in `drivers`; the scenarios never change for it.
 *
 * Not covered here: 38–39 (SIGKILL tests, tests-e2e/kill) and 43 (fsync EIO, simulated file
 * system only); of 34, the injected EIO runs on the simulated disk in @aerodb/snapshot's tests.
 */
import { afterEach, describe, it } from "vitest";
import type { ConformanceDriver } from "./driver.js";
import { embeddedDriver } from "./drivers/embedded.js";
import { stdioDriver } from "./drivers/stdio.js";
import { ScenarioContext, scenarios } from "./scenarios/index.js";

const drivers: readonly ConformanceDriver[] = [embeddedDriver(), stdioDriver()];

describe.each(drivers)("conformance: $name", (driver) => {
  let ctx: ScenarioContext | null = null;

  afterEach(async () => {
    await ctx?.cleanup();
    ctx = null;
  });

  for (const scenario of scenarios) {
    it(`§13.${scenario.id}: ${scenario.title}`, async () => {
      ctx = new ScenarioContext(driver);
      await scenario.run(ctx);
    });
  }
});
