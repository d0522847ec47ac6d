#!/usr/bin/env bash
# Load ward chart pages (60 wards x 6 measures, in turn) with wrk, signed in as a programme
# viewer, against `mhsip serve` on a demo data folder. Usage: scripts/wrk-chart-pages.sh DATA_DIR
# [SECONDS] [CONNECTIONS]. Prints wrk's report (requests/s, latency percentiles, errors), then the
# same during a command-line import of the demo's Datix export.
set -euo pipefail
data="$1"; seconds="${2:-10}"; conns="${3:-16}"
bin="$(dirname "$0")/../target/release/mhsip"
port=18089
work="$(mktemp -d)"
# A copy, so the benchmark account never lands in the data folder given.
cp "$data/mhsip.db" "$work/mhsip.db"; cp "$data/pseudonymisation.key" "$work/" 2>/dev/null || true
printf 'wrk-load-password\n' | "$bin" users --data "$work" add wrk.viewer --role programme_viewer >/dev/null
"$bin" serve --data "$work" --bind "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
cookie="$(curl -s -o /dev/null -D - -d 'username=wrk.viewer&password=wrk-load-password' "http://127.0.0.1:$port/login" | sed -n 's/^[Ss]et-[Cc]ookie: \(mhsip_session=[^;]*\).*/\1/p')"
[ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }
python3 -c "import sqlite3,sys; print('\n'.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute('select code from wards order by code')))" "$work/mhsip.db" > "$work/wards.txt"
cat > "$work/pages.lua" <<LUA
local wards = {}
for line in io.lines("$work/wards.txt") do wards[#wards + 1] = line end
local measures = {"ri_rate", "ri_prone_rate", "self_harm_rate", "awol_rate", "pct_leave_on_time", "sexual_safety_rate"}
local i = 0
request = function()
  i = i + 1
  local w = wards[(i % #wards) + 1]
  local m = measures[(math.floor(i / #wards) % #measures) + 1]
  return wrk.format("GET", "/chart/" .. w .. "/" .. m, {["Cookie"] = "$cookie"})
end
LUA
# Let the server finish warming its caches, then one pass over every page, then the load.
sleep 5
wrk -t2 -c"$conns" -d2s -s "$work/pages.lua" "http://127.0.0.1:$port/" >/dev/null
wrk -t2 -c"$conns" -d"${seconds}s" -s "$work/pages.lua" --latency "http://127.0.0.1:$port/"
# The same load while the demo's Datix-style export is imported into the served database with the
# command line (as a trust analyst would) and the server recomputes its figures in the background.
export_file="$data/demo-files/datix-export-R9A.csv"
if [ -f "$export_file" ]; then
  echo "== the same load while $(basename "$export_file") is imported with mhsip import"
  wrk -t2 -c"$conns" -d12s -s "$work/pages.lua" --latency "http://127.0.0.1:$port/" > "$work/during.txt" &
  load=$!
  sleep 1
  "$bin" import --data "$work" --kind restrictive_interventions --mapping datix-restrictive --only-trust R9A --user wrk "$export_file" 2>&1 | tail -1
  wait "$load"
  cat "$work/during.txt"
fi
