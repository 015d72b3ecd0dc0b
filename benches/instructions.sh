#!/usr/bin/env bash
# Instructions per request (user space, under callgrind): deterministic where CPU time on a
# shared machine is not. For each case and mode, `load` runs twice against one `load --serve`
# (started here, or at ADDR), for FEW and MANY requests; the difference of the totals over
# the difference of the counts leaves out start-up, connection set-up and exit.
#
#   cargo build --release --example load && benches/instructions.sh [ADDR]
#   LOAD=/path/to/an/older/load benches/instructions.sh ADDR   # the same for another build
#
# Needs valgrind. About half a minute (each run is some 50 times slower under callgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
load=${LOAD:-./target/release/examples/load}
few=1000
many=5000
modes=("none" "noop" "full" "timings")
cases=("h1 1" "h2 16")

if [ $# -ge 1 ]; then
  addr=$1
else
  "$load" --serve > /tmp/instructions.addr &
  server=$!
  trap 'kill $server 2>/dev/null' EXIT
  for _ in $(seq 50); do [ -s /tmp/instructions.addr ] && break; sleep 0.1; done
  addr=$(head -1 /tmp/instructions.addr)
fi
out=$(mktemp)
trap 'rm -f "$out"; [ -n "${server:-}" ] && kill "$server" 2>/dev/null' EXIT

instructions() {
  valgrind --tool=callgrind --callgrind-out-file="$out" "$load" "$@" "http://$addr/" 2>&1 |
    sed -nE 's/.*Collected : ([0-9]+).*/\1/p'
}

printf '| case | %s |\n|---|---|---|---|---|\n' "$(IFS='|'; echo "${modes[*]}" | sed 's/|/ | /g')"
for case in "${cases[@]}"; do
  read -r proto conc <<< "$case"
  flags=(--concurrency "$conc")
  [ "$proto" = h2 ] && flags+=(--http2)
  row="| ${proto/h1/HTTP\/1.1} c=$conc"
  row="${row/h2/HTTP\/2}"
  base=""
  for mode in "${modes[@]}"; do
    a=$(instructions --trace "$mode" --requests "$few" "${flags[@]}")
    b=$(instructions --trace "$mode" --requests "$many" "${flags[@]}")
    per=$(( (b - a) / (many - few) ))
    if [ -z "$base" ]; then
      base=$per
      row+=" | $per"
    else
      row+=" | $per (+$(( per - base )))"
    fi
  done
  echo "$row |"
done
