#!/usr/bin/env bash
# Measures what a new user pays for the README's two commands: a fresh clone,
# empty cargo and pip caches, then the offline example and the test command.
# Prints wall time and peak memory of each, and the disk the build and the
# two virtualenvs take. Needs network access to crates.io and PyPI, as a new
# machine does.
#
#   scripts/first-run-cost.sh [WORKDIR]     (default: a new temporary folder)
set -euo pipefail
source_repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
clone="$work/lapse"
rm -rf "$clone" "$work/cargo-home" "$work/cache"
git clone --quiet "$source_repo" "$clone"
cd "$clone"

# Fresh caches: crates and wheels are downloaded as on a new machine. The
# toolchain itself (rustup's) is reused.
export CARGO_HOME="$work/cargo-home"
export XDG_CACHE_HOME="$work/cache"
export PATH="$HOME/.cargo/bin:$PATH"

measure() {
  local label="$1"
  shift
  local log="$work/$label.time"
  local status=0
  /usr/bin/time -v -o "$log" "$@" >"$work/$label.out" 2>&1 || status=$?
  local wall rss
  wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")"
  rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")"
  printf '%-10s exit %s  wall %s  peak RSS of one process %s MiB\n' \
    "$label" "$status" "$wall" "$((rss / 1024))"
}

size() { du -sh "$1" 2>/dev/null | cut -f1; }

echo "lapse first run, from a clone of $(git rev-parse --short HEAD), $(nproc) cores"
measure example cargo run --quiet -- plan --config config/example/lapse.yaml \
  --state config/example/snapshot.json --now 2026-11-22
echo "           (exit 2 is expected: the example has drift)"
echo "disk after the example: target/ $(size target), cargo home $(size "$CARGO_HOME")"
measure tests scripts/test.sh
grep '^==> done' "$work/tests.out" || tail -n 5 "$work/tests.out"
echo "disk after the tests: target/ $(size target), .venv $(size .venv)," \
  ".venv-lint $(size .venv-lint), cargo home $(size "$CARGO_HOME")," \
  "pip cache $(size "$XDG_CACHE_HOME")"
