#!/usr/bin/env bash
# The README's test command (and .ci/run): installs what is missing, type-checks, checks the
# dependency rules, runs every test (unit, workflow, integration against the real lab), then
# brings the lab down and checks it left nothing behind. Ends with one line 'N passed, N failed'.
#
# The lab comes up in the background while the code is checked and the tests that need no lab
# (unit, workflow: their own Temporal test servers) run, two files at a time; the integration
# tests then run one file at a time, since they share the lab.
set -uo pipefail
cd "$(dirname "$0")/.."
step() { echo "== $(date +%T) $*"; }
step "setup"
bash scripts/setup.sh || exit 1

mkdir -p test-results
rm -f test-results/*.json test-results/lab-up.log
# Everything the tests use is installed and started here, never by a test: the pinned Temporal
# CLI first (the workflow tests run their own server from it), then Placement and the 3-host lab.
step "Temporal CLI (pinned)"
npx tsx lab/temporal.ts install >/dev/null || exit 1
# Debian 12's QEMU 7.2, unpacked under .tools beside the lab's QEMU 10 (test/integration/data-path.test.ts).
step "Debian 12's QEMU 7.2 (unpacked, not installed)"
npx tsx lab/legacy-qemu.ts install >/dev/null || exit 1
# The production-shaped stack's Temporal server, built from its Go module (cached under .tools;
# cold, with empty Go caches, about 20 minutes on 2 cores; warm, seconds): test/stack needs it.
step "Temporal server for the stack (built from go.temporal.io/server, cached)"
npx tsx stack/server-build.ts install >/dev/null || exit 1
step "lab up, in the background (test-results/lab-up.log)"
node bin/ferry lab up --hosts 3 --accel tcg > test-results/lab-up.log 2>&1 &
lab_up=$!

status=0
step "type-check"
npx tsc --noEmit -p . || status=1
# The architecture (design.md, "Layout") as dependency rules: .dependency-cruiser.cjs.
step "dependency rules"
npm run --silent depcruise || status=1

step "unit and workflow tests (no lab needed)"
npx vitest run test/unit test/workflow --fileParallelism --maxWorkers=2 \
  --reporter=default --reporter=json --outputFile.json=test-results/unit-workflow.json || status=1

step "waiting for the lab"
if ! wait "$lab_up"; then
  tail -n 40 test-results/lab-up.log
  echo "the lab did not come up (test-results/lab-up.log)"
  node bin/ferry lab down >/dev/null 2>&1
  exit 1
fi
if [ $status -ne 0 ]; then
  echo "type-check, dependency rules or unit/workflow tests failed: the lab tests are not run"
  node bin/ferry lab down >/dev/null 2>&1
  exit 1
fi

step "integration tests (the real lab)"
# The post-copy recovery fault runs here (20 of 20 in a loop); the daemon-restart fault runs with
# npm run test:faults.
# test/guest runs the lab guest under plain QEMU (its disk checker across a migration): here, once the
# lab's packages (QEMU) are installed.
npx vitest run test/integration test/guest test/faults/postcopy-recovery.test.ts \
  --reporter=default --reporter=json --outputFile.json=test-results/integration.json || status=1
# Every fault and every phase at least once (test/faults/matrix/cells.ts), each case ending in the
# invariants checker; the table goes to test-results/fault-matrix.md.
step "the fault matrix, covering set (the real lab)"
npx vitest run test/faults/fault-matrix.test.ts \
  --reporter=default --reporter=json --outputFile.json=test-results/fault-matrix.json || status=1
# The production-shaped stack (issue 9): official Temporal server on PostgreSQL with mTLS, two
# workers; it comes up and goes down inside its test, beside the lab (other ports).
step "the production-shaped stack (test/stack)"
npx vitest run test/stack \
  --reporter=default --reporter=json --outputFile.json=test-results/stack.json || status=1
step "lab down, and nothing left behind"
npx vitest run test/teardown --reporter=default --reporter=json --outputFile.json=test-results/teardown.json || status=1
step "done"

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  const expected = ["unit-workflow.json", "integration.json", "fault-matrix.json", "stack.json", "teardown.json"];
  const present = fs.readdirSync("test-results").filter((f) => f.endsWith(".json"));
  for (const f of expected) if (!present.includes(f)) { console.log(`no result from ${f}: that step did not run`); failed++; }
  const failures = [];
  for (const f of present) {
    const r = JSON.parse(fs.readFileSync("test-results/" + f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
    if (r.numTotalTests === 0) failed++; // a run that found no test is a failure, not a pass
    // Named at the very end: only the tail of a CI log may be kept.
    for (const suite of r.testResults ?? []) {
      const file = suite.name.replace(process.cwd() + "/", "");
      if (suite.status === "failed" && (suite.assertionResults ?? []).every((a) => a.status !== "failed")) {
        failures.push(`${file}: ${String(suite.message ?? "failed to run").split("\n")[0].slice(0, 300)}`);
      }
      for (const a of suite.assertionResults ?? []) {
        if (a.status === "failed") failures.push(`${file} > ${a.fullName}: ${String((a.failureMessages ?? [])[0] ?? "").split("\n")[0].slice(0, 300)}`);
      }
    }
  }
  if (failures.length) console.log("failed:\n" + failures.map((x) => "  " + x).join("\n"));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
' || status=1
exit $status
