// node --test tools/  — rendering of docs/errors.md.
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderErrorsDoc } from "./gen-errors-doc.mjs";

test("one table per severity, sorted by code, cells escaped", () => {
  const doc = renderErrorsDoc({
    AERO_B_TWO: { severity: "FATAL", invariant: "X-1", meaning: "b" },
    AERO_A_ONE: { severity: "FATAL", invariant: "X-2", meaning: "a | pipe" },
    AERO_C_REJ: { severity: "REJECT", invariant: "Y", meaning: "c" },
  });
  assert.match(doc, /generated from `packages\/base\/src\/errors\/registry.ts` by `pnpm docs:errors`/);
  assert.ok(
    doc.includes(
      [
        "## FATAL (2)",
        "",
        "| Code         | Invariant | Meaning   |",
        "| ------------ | --------- | --------- |",
        "| `AERO_A_ONE` | X-2       | a \\| pipe |",
        "| `AERO_B_TWO` | X-1       | b         |",
        "",
      ].join("\n"),
    ),
    doc,
  );
  assert.match(doc, /## ERROR \(0\)\n\nNone\.\n/);
  assert.match(doc, /## REJECT \(1\)\n\n.*\n.*\n\| `AERO_C_REJ` \| Y {9}\| c {7}\|\n$/);
  assert.ok(
    doc.indexOf("## FATAL") < doc.indexOf("## ERROR") && doc.indexOf("## ERROR") < doc.indexOf("## REJECT"),
  );
});

test("an unknown severity is an error", () => {
  assert.throws(
    () => renderErrorsDoc({ AERO_X: { severity: "WARN", invariant: "", meaning: "" } }),
    /unknown severity/,
  );
});
