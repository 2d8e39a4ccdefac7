#!/usr/bin/env bash
# Pins the Python tools' requirement files by version and by hash, every
# transitive package included, for `pip install --require-hashes`
# (scripts/setup-venv.sh):
#
#   scripts/pin-requirements.sh [FILE...]
#
# (default: scripts/lint-requirements.txt and
# tests/support/moto/requirements.txt). Each file keeps its leading comment
# block; the packages are read back from its `name==version` lines and
# resolved again with pip-compile --generate-hashes (pip-tools, installed in
# a scratch venv), which records the hash of every archive PyPI serves for
# that version, so the file installs on Linux and macOS alike.
#
# To move a tool to a newer version: change its `==` in the file, delete
# the lines of any dependency that then conflicts, and run this script; it
# pins what the new version needs. Then run scripts/test.sh. Needs PyPI.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
if (($# == 0)); then
  set -- "$root/scripts/lint-requirements.txt" "$root/tests/support/moto/requirements.txt"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check pip-tools==7.7.0

for file in "$@"; do
  # The comment block at the top, kept as it is.
  awk '/^[^#[:space:]]/ { exit } { print }' "$file" >"$work/header"
  # Every pinned package, extras kept (moto[s3]==...).
  grep -oE '^[A-Za-z0-9._-]+(\[[A-Za-z0-9,._-]+\])?==[^ ;\\]+' "$file" >"$work/in.txt"
  (
    cd "$work"
    venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --no-strip-extras \
      --no-header --no-emit-index-url --no-emit-find-links --annotation-style=line \
      --output-file out.txt in.txt
  )
  # pip-compile names the input file in its annotations; say where it was.
  sed -e 's/-r in\.txt/pinned/' "$work/out.txt" | cat "$work/header" - >"$file"
  echo "pin-requirements: ${file#"$root/"}: $(grep -cE '^[A-Za-z0-9]' "$file") packages"
done
