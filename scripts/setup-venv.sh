#!/usr/bin/env bash
# Creates ./.venv at the repository root with moto, the IAM/STS emulator the
# integration tests run against (tests/support/moto/requirements.txt).
#
# Idempotent and quick when nothing changed: the venv records the hash of the
# requirements it was built from, and is rebuilt from scratch when they differ,
# so it never carries packages a previous requirements file left behind.
# Needs only python3 with venv/pip, and access to PyPI for the first run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/tests/support/moto/requirements.txt"
venv="$root/.venv"
stamp="$venv/.lapse-requirements.sha256"
python="${PYTHON:-python3}"

if command -v sha256sum >/dev/null; then
  wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
else # macOS
  wanted="$(shasum -a 256 "$requirements" | cut -d' ' -f1)"
fi

# `-x` follows the symlink, so a venv whose base python was removed counts as broken.
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(<"$stamp")" == "$wanted" ]]; then
  echo "setup-venv: $venv is up to date"
  exit 0
fi

start=$SECONDS
rm -f "$stamp"
"$python" -m venv --clear "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --requirement "$requirements"
# Fail here rather than in the first test if the install is unusable.
"$venv/bin/python" -c "import moto.server, moto.iam, moto.sts, flask_cors"
echo "$wanted" >"$stamp"
echo "setup-venv: built $venv from tests/support/moto/requirements.txt in $((SECONDS - start)) s"
