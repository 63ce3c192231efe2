// The maintenance lock (engine/maintenance-lock.ts): checkpoints and backups one at a time,
// first asked first served; a free lock is taken synchronously (so a maintenance request
// issued before a write keeps its place in the pipeline); a failure hands the lock on;
// idle() waits for everything asked for so far. Ordered with explicit gates, no timers.
import { describe, expect, it } from "vitest";
import { MaintenanceLock } from "../src/engine/maintenance-lock.js";

/** Lets every queued promise reaction run (a lock that does not wait would have started by then). */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe("MaintenanceLock", () => {
  it("a free lock starts the work before run() returns", () => {
    const lock = new MaintenanceLock();
    let started = false;
    const done = lock.run(async () => {
      started = true;
    });
    expect(started).toBe(true);
    return done;
  });

  it("holders run one at a time, in the order they asked, each after the previous settled", async () => {
    const lock = new MaintenanceLock();
    const log: string[] = [];
    const first = gate();
    const a = lock.run(async () => {
      log.push("a start");
      await first.opened;
      log.push("a end");
      return "a";
    });
    const b = lock.run(async () => {
      log.push("b start");
      return "b";
    });
    const c = lock.run(async () => {
      log.push("c start");
      return "c";
    });
    // b and c wait while a holds the lock.
    await drainMicrotasks();
    expect(log).toEqual(["a start"]);
    first.open();
    expect(await Promise.all([a, b, c])).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["a start", "a end", "b start", "c start"]);
  });

  it("a failing holder passes the lock on, and its caller gets its error", async () => {
    const lock = new MaintenanceLock();
    const failing = lock.run(async () => {
      throw new Error("checkpoint failed");
    });
    const next = lock.run(async () => "ran");
    await expect(failing).rejects.toThrow("checkpoint failed");
    expect(await next).toBe("ran");
    // Free again: taken synchronously.
    let started = false;
    await lock.run(async () => {
      started = true;
    });
    expect(started).toBe(true);
  });

  it("idle() resolves only once everything asked for so far has settled, and never rejects", async () => {
    const lock = new MaintenanceLock();
    const hold = gate();
    const settled: string[] = [];
    lock
      .run(async () => {
        await hold.opened;
        throw new Error("backup failed");
      })
      .catch(() => settled.push("first"));
    void lock.run(async () => {
      settled.push("second");
    });
    const idle = lock.idle().then(() => settled.push("idle"));
    await drainMicrotasks();
    expect(settled).toEqual([]);
    hold.open();
    await idle;
    expect(settled.slice(0, 2).sort()).toEqual(["first", "second"]);
    expect(settled[2]).toBe("idle");
  });
});
