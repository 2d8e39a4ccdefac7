#!/usr/bin/env bash
# Peak memory and wall time of `lapse validate` (release build) on large
# rosters: 50,000 and 200,000 people, a roster filled to the largest size
# lapse reads, and one of that size made of one long value.
#
#   scripts/validate-memory.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d)}"
cargo build --quiet --release --locked --bin lapse --example scale

run() {
  local label="$1" dir="$2"
  local log="$work/$label.time" status=0
  /usr/bin/time -v -o "$log" target/release/lapse validate --config "$dir/lapse.yaml" \
    >"$work/$label.out" 2>&1 || status=$?
  printf '%-22s exit %s  wall %s  peak %s MiB  (%s)\n' "$label" "$status" \
    "$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")" \
    "$(($(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log") / 1024))" \
    "$(tail -n 1 "$work/$label.out" | cut -c1-100)"
}

for roster in 50000 200000 limit long-value; do
  target/release/examples/scale "$roster" --write "$work/$roster"
  run "$roster" "$work/$roster"
done
