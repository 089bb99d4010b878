#!/usr/bin/env bash
# The README's main command: brings the embedded lab up (idempotent), makes sure the demo VM
# runs, and live-migrates it to another host with a live progress bar. Run it again and the VM
# moves back.
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
echo "== migrating demo: $where -> $to (peer-to-peer, through ferry's TypeScript libvirt client)"
ferry lab migrate demo --to "$to"
ferry lab vm stall demo
echo "Temporal web UI: $(ferry lab status --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0,"utf8")).temporal?.ui ?? "-")')"
echo "Stop the lab with: npx ferry lab down"
