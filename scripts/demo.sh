#!/usr/bin/env bash
# The README's main command: brings the embedded lab up (idempotent), makes sure the demo VM
# runs, starts a ferry worker, and live-migrates the VM to another host through the LiveMigration
# workflow with a live progress bar. Run it again and the VM moves back.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

ferry() { node bin/ferry "$@"; }
ferry lab up
where=$(ferry lab status --json | node -e '
  const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const vm = s.vms.find((v) => v.name === "demo");
  process.stdout.write(vm && vm.host ? vm.host : "");')
if [ -z "$where" ]; then
  ferry lab vm delete demo >/dev/null 2>&1 || true
  ferry lab vm create demo --host host-a --mem 256 --rate 20
  where=host-a
fi
to=$([ "$where" = host-a ] && echo host-b || echo host-a)
mkdir -p .lab
node bin/ferry worker > .lab/demo-worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT
until grep -q '"state":"RUNNING"' .lab/demo-worker.log 2>/dev/null; do
  kill -0 $worker 2>/dev/null || { cat .lab/demo-worker.log; exit 1; }
  sleep 0.5
done
echo "== migrating demo: $where -> $to (LiveMigration workflow, task queue ferry)"
ferry migrate demo --to "$to"
ferry history demo
echo "Temporal web UI: $(ferry lab status --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0,"utf8")).temporal?.ui ?? "-")')"
echo "Stop the lab with: npx ferry lab down"
