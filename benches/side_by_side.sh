#!/usr/bin/env bash
# Issue #19's side-by-side method: the server pinned to one core, each client run pinned to
# the other, keep-alive GETs; for each case, each mode's client CPU per request divided by
# plain hyper-util's (`none`) in the same round; the median of those ratios over ROUNDS.
#
#   cargo build --release --example load && benches/side_by_side.sh [ROUNDS]
#
# Needs two cores and `taskset`. Go's client is not compared here (no Go on this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
load=./target/release/examples/load
modes=("none" "noop" "full" "timings" "full --sample 0.01")
cases=("h1 1 50000" "h1 16 200000" "h1 64 200000" "h2 64 200000")

taskset -c 0 "$load" --serve > /tmp/side_by_side.addr &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s /tmp/side_by_side.addr ] && break; sleep 0.1; done
url="http://$(head -1 /tmp/side_by_side.addr)/"

declare -A ratios
for round in $(seq "$rounds"); do
  for case in "${cases[@]}"; do
    read -r proto conc reqs <<< "$case"
    flags=(--requests "$reqs" --concurrency "$conc")
    [ "$proto" = h2 ] && flags+=(--http2)
    base=""
    for mode in "${modes[@]}"; do
      # shellcheck disable=SC2086
      line=$(taskset -c 1 "$load" --trace $mode "${flags[@]}" "$url")
      cpu=$(sed -E 's/.*cpu_us_per_request=([0-9.]+).*/\1/' <<< "$line")
      [ -z "$base" ] && base=$cpu
      key="$proto c=$conc|$mode"
      ratios[$key]+="$(awk -v a="$cpu" -v b="$base" 'BEGIN { printf "%.4f ", a / b }')"
      [ "$mode" = none ] && ratios["$proto c=$conc|none µs"]+="$cpu "
    done
  done
  echo "round $round done" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '| case | none (CPU µs/req) | noop | full | timings | full, 1%% sampled |\n|---|---|---|---|---|---|\n'
for case in "${cases[@]}"; do
  read -r proto conc _ <<< "$case"
  row="| ${proto/h1/HTTP\/1.1} c=$conc | $(median <<< "${ratios["$proto c=$conc|none µs"]}")"
  row="${row/h2/HTTP\/2}"
  for mode in "${modes[@]:1}"; do
    row+=" | $(median <<< "${ratios["$proto c=$conc|$mode"]}")"
  done
  echo "$row |"
done
