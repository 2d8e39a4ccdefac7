#!/usr/bin/env bash
# Runs every test lapse has. On a fresh machine it first installs what the
# tests need: the Rust crates (cargo fetches them) and the moto IAM/STS
# emulator (a pinned version in ./.venv), and the deploy linters checkov and
# parliament (pinned, in ./.venv-lint).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-venv.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
scripts/lint-deploy.sh
