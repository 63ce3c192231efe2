// A short, real run of @aerodb/wal on the simulated file system: durable commit units,
// a power loss while the last unit is being written, and recovery that cuts the torn tail.
// Usage: node tools/wal-demo/wal-demo.mjs [--seed N]
import { parseArgs } from "node:util";
import { SimFileSystem } from "@aerodb/base";
import { FrameKind, openWal, SimulatedCrash } from "@aerodb/wal";

const { values } = parseArgs({ options: { seed: { type: "string", default: "7" } } });
const seed = Number(values.seed);
const databaseId = "a3e0db00000000000000000000000de0";
const enc = new TextEncoder();

const disk = new SimFileSystem();
await disk.mkdir("/data");
await disk.mkdir("/data/wal");
await disk.syncDir("/data");
await disk.syncDir("/");

const { writer } = await openWal(disk, "/data/wal", { databaseId, segmentBytes: 64 * 1024 });
const acknowledged = [];
for (let id = 1; id <= 5; id++) {
  const doc = JSON.stringify({ _id: `user-${id}`, name: `User ${id}` });
  const unit = await writer.appendUnit({
    commitId: id,
    records: [{ kind: FrameKind.VERSION, payload: enc.encode(doc) }],
  });
  acknowledged.push(unit.commitId);
  console.log(`commit ${unit.commitId} durable at LSN ${unit.beginLsn}..${unit.commitLsn}  ${doc}`);
}

// Power fails in the middle of commit 6: its frames reach the page cache, never the disk.
disk.crashAfter(2);
const inFlight = writer.appendUnit({
  commitId: 6,
  records: [{ kind: FrameKind.VERSION, payload: enc.encode('{"_id":"user-6","name":"never acknowledged"}') }],
});
try {
  await inFlight;
} catch (err) {
  if (!(err instanceof SimulatedCrash)) throw err;
  console.log(`power lost while commit 6 was being written (seed ${seed})`);
}

const afterCrash = disk.crash(seed);
const recovered = [];
const { writer: next, scan } = await openWal(afterCrash, "/data/wal", {
  databaseId,
  segmentBytes: 64 * 1024,
  onUnit: (unit) => recovered.push(unit.commitId),
});
console.log("recovery outcome:");
console.log(
  JSON.stringify(
    {
      segments: scan.segments.map((s) => s.name),
      last_lsn: scan.lastLsn,
      commit_high_water: scan.lastCommitId,
      records_verified: scan.recordsVerified,
      units_replayed: recovered.length,
      torn_tail: scan.tornTail,
      acknowledged_commits_present: acknowledged.every((id) => recovered.includes(id)),
    },
    null,
    2,
  ),
);
const unit = await next.appendUnit({
  commitId: scan.lastCommitId + 1,
  records: [{ kind: FrameKind.VERSION, payload: enc.encode('{"_id":"user-7"}') }],
});
console.log(
  `after recovery, commit ${unit.commitId} appends at LSN ${unit.beginLsn}: LSNs and commit ids continue`,
);
await next.close();
