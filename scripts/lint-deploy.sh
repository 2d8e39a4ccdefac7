#!/usr/bin/env bash
# Lints deploy/ with real tools, pinned by hash in scripts/lint-requirements.txt
# and installed into ./.venv-lint by scripts/setup-venv.sh lint:
#
#   - checkov on the Kubernetes manifests, each kustomization rendered first
#     (`kustomize build` or `kubectl kustomize`), so what is checked is what
#     `kubectl apply -k` would send, overlays and patches included; and each
#     overlay once more as a copy outside the repository, with its base
#     pointed at the checkout, as someone who copied it would use it;
#   - checkov on deploy/Dockerfile (whose FROM lines must be pinned by
#     digest), and its secrets scanner on all of deploy/;
#   - deploy/aws/generate.py run on deploy/aws/params.example.toml: its output
#     must equal deploy/aws/example/ (the rendered copy readers see), parliament
#     (default and community auditors) audits every policy in it, with the
#     skips and trust-policy roles of its parliament.yaml, checkov audits its
#     CloudFormation, and the example overlays' lapse.yaml must name the same
#     accounts, roles and audit bucket;
#   - no file in deploy/ points at a document outside the repository.
#
# Any failed check or finding fails the script. Checks are skipped only where
# the skip is written down beside the thing it skips, with its reason:
# `checkov.io/skipN` annotations in the manifests (annotations, not comments,
# because kustomize drops comments), `# checkov:skip=` in the Dockerfile, and
# the skips deploy/aws/generate.py writes into parliament.yaml.
#
# Idempotent, and quick once .venv-lint is built (it is rebuilt when its
# requirements change). Needs python3 with venv/pip, PyPI for the first run,
# and kustomize or kubectl for the rendering (without either, the complete
# manifests are checked as they stand and the overlays are not).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deploy="$root/deploy"
venv="$root/.venv-lint"
start=$SECONDS
cd "$root"

# --- the venv ---------------------------------------------------------------
"$root/scripts/setup-venv.sh" lint
echo "lint-deploy: checkov $("$venv/bin/checkov" --version), parliament $("$venv/bin/python" -c 'import parliament; print(parliament.__version__)')"

# checkov: no version check against PyPI, no download of policy metadata, and
# a file it cannot parse is a failure, not a silent pass.
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true CKV_PARSE_ERROR_FAIL=true
checkov=("$venv/bin/checkov" --skip-download)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()

# --- render the kustomizations ----------------------------------------------
if command -v kustomize >/dev/null; then
  render=(kustomize build)
elif command -v kubectl >/dev/null; then
  render=(kubectl kustomize)
else
  render=()
fi
mkdir "$work/k8s"
kustomizations=()
if ((${#render[@]})); then
  components=()
  while IFS= read -r dir; do
    rel="${dir#"$deploy/kubernetes/"}"
    if grep -q '^kind: Component' "$dir/kustomization.yaml"; then
      components+=("$rel")
      continue
    fi
    kustomizations+=("$rel")
    if ! "${render[@]}" "$dir" >"$work/k8s/${rel//\//-}.yaml"; then
      failed+=("render $rel")
    fi
  done < <(find "$deploy/kubernetes" -name kustomization.yaml -exec dirname {} \; | sort)
  # A component cannot be built alone: each is checked on top of the CronJob
  # (base) and of the daemon (serve), through a throwaway overlay.
  for component in "${components[@]}"; do
    for variant in base serve; do
      name="${component//\//-}-on-$variant"
      mkdir -p "$work/compose/$name"
      up="$("$venv/bin/python" -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' \
        "$deploy/kubernetes" "$work/compose/$name")"
      printf 'resources:\n  - %s/%s\ncomponents:\n  - %s/%s\n' "$up" "$variant" "$up" "$component" \
        >"$work/compose/$name/kustomization.yaml"
      kustomizations+=("$component+$variant")
      if ! "${render[@]}" "$work/compose/$name" >"$work/k8s/$name.yaml"; then
        failed+=("render $component on $variant")
      fi
    done
  done
  k8s_note="${#kustomizations[@]} kustomizations rendered by ${render[*]}"
else
  # No renderer: the complete objects as they stand (overlays hold patches,
  # not objects, and are left out).
  "$venv/bin/python" - "$deploy/kubernetes" "$work/k8s" <<'EOF'
import pathlib, sys, yaml
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for path in sorted(src.rglob("*.yaml")):
    if "overlays" in path.parts or path.name.endswith(".example.yaml"):
        continue
    docs = [d for d in yaml.safe_load_all(path.read_text())
            if isinstance(d, dict) and "apiVersion" in d and "kind" in d
            and d["kind"] not in ("Kustomization", "Component")]
    if docs:
        (out / "-".join(path.relative_to(src).parts)).write_text(yaml.safe_dump_all(docs))
EOF
  k8s_note="raw manifests (no kustomize or kubectl: overlays not checked)"
fi

# What the manifests promise, checked on what they render to: the daemon
# variant has no CronJob and exactly one replica, replaced (not rolled); every
# CronJob forbids overlap and retries a failed run at most once.
if ((${#render[@]})); then
  "$venv/bin/python" - "$work/k8s" <<'EOF' || failed+=("manifest invariants")
import pathlib, sys, yaml
bad = []
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.yaml")):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    kinds = [d["kind"] for d in docs]
    for d in docs:
        name = f"{path.stem}: {d['kind']}/{d['metadata']['name']}"
        if d["kind"] == "Deployment":
            if "CronJob" in kinds:
                bad.append(f"{path.stem}: both a CronJob and a Deployment (they would both act)")
            if d["spec"].get("replicas") != 1:
                bad.append(f"{name}: replicas is not 1")
            if d["spec"].get("strategy", {}).get("type") != "Recreate":
                bad.append(f"{name}: strategy is not Recreate (a rollout would run two daemons)")
        if d["kind"] == "CronJob":
            job = d["spec"]["jobTemplate"]["spec"]
            if d["spec"].get("concurrencyPolicy") != "Forbid":
                bad.append(f"{name}: concurrencyPolicy is not Forbid")
            if job.get("backoffLimit") not in (0, 1):
                bad.append(f"{name}: backoffLimit is not 0 or 1")
for b in bad:
    print(f"lint-deploy: {b}")
sys.exit(1 if bad else 0)
EOF
fi

# Each overlay as it is used: copied out of the repository, with its
# `../../base` (or `../../serve`) replaced by the remote base its comment
# names, here the checkout itself. Any other path out of the overlay's
# directory would break in the copy.
copies=0
if ((${#render[@]})); then
  for dir in "$deploy"/kubernetes/overlays/*/; do
    dir="${dir%/}"
    name="$(basename "$dir")"
    copy="$work/copied/$name"
    mkdir -p "$work/copied"
    cp -R "$dir" "$copy"
    if grep -rnE '\.\./' "$copy" | grep -vE '^[^:]+:[0-9]+:  - \.\./\.\./(base|serve)( |$)' | grep -v '^[^:]*:[0-9]*:[[:space:]]*#'; then
      failed+=("overlay $name reaches out of its directory other than for its base")
      continue
    fi
    # kustomize takes no absolute path: the checkout, relative to the copy.
    up="$("$venv/bin/python" -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' \
      "$deploy/kubernetes" "$copy")"
    sed -i.orig -E "s#^  - \.\./\.\./(base|serve)( |\$)#  - $up/\\1\\2#" "$copy/kustomization.yaml"
    rm -f "$copy/kustomization.yaml.orig"
    if ! "${render[@]}" "$copy" >"$work/copied-$name.yaml"; then
      failed+=("render overlay $name copied out of the repository")
    elif ! cmp -s "$work/copied-$name.yaml" "$work/k8s/overlays-$name.yaml"; then
      failed+=("overlay $name renders differently copied out of the repository")
    fi
    copies=$((copies + 1))
  done
fi

# --- checkov ----------------------------------------------------------------
# Runs one checkov, lists the checks that failed and those skipped (with their
# reasons), and writes
# "passed failed skipped resources parsing-errors" from its JSON report
# (summed over frameworks) into the named file.
run_checkov() {
  local label="$1" counts="$2"
  shift 2
  local out="$work/checkov-$label.json"
  local rc=0
  # The full reports go to files; what matters is printed below.
  "${checkov[@]}" "$@" -o cli -o json --output-file-path "$work/checkov-$label.txt,$out" \
    >"$work/checkov-$label.log" 2>&1 || rc=$?
  if [[ ! -s "$out" ]]; then
    cat "$work/checkov-$label.log"
    echo "lint-deploy: checkov $label wrote no report"
    rc=1
  fi
  "$venv/bin/python" - "$out" "$counts" "$label" <<'EOF'
import json, sys
try:
    data = json.load(open(sys.argv[1]))
except FileNotFoundError:
    data = []
reports = data if isinstance(data, list) else [data]
p = f = s = r = e = 0
skipped = {}
label = sys.argv[3]
for report in reports:
    summary = report.get("summary", {})
    p += summary.get("passed", 0); f += summary.get("failed", 0)
    s += summary.get("skipped", 0); r += summary.get("resource_count", 0)
    e += summary.get("parsing_errors", 0)
    for check in report.get("results", {}).get("failed_checks", []):
        lines = "-".join(map(str, check.get("file_line_range") or []))
        print(f"checkov {label}: FAILED {check['check_id']} ({check.get('check_name', '')}) "
              f"on {check['resource']} in {check['file_path'].lstrip('/')}:{lines}")
    for check in report.get("results", {}).get("skipped_checks", []):
        reason = (check.get("check_result") or {}).get("suppress_comment", "").strip()
        entry = skipped.setdefault((check["check_id"], check.get("check_name", ""), reason), [])
        entry.append(f"{check['resource']} in {check['file_path'].lstrip('/')}")
for (check_id, name, reason), where in sorted(skipped.items()):
    print(f"checkov {label}: skipped {check_id} ({name}) on {', '.join(where)}\n    reason: {reason}")
open(sys.argv[2], "w").write(f"{p} {f} {s} {r} {e}\n")
EOF
  return "$rc"
}

run_checkov kubernetes "$work/k8s.counts" -d "$work/k8s" --framework kubernetes || failed+=("checkov kubernetes")
read -r k_pass k_fail k_skip k_res k_err <"$work/k8s.counts"
((k_res > 0)) || failed+=("checkov kubernetes: no resources found")

run_checkov dockerfile "$work/docker.counts" -f deploy/Dockerfile --framework dockerfile || failed+=("checkov dockerfile")
read -r d_pass d_fail d_skip d_res d_err <"$work/docker.counts"
((d_pass > 0)) || failed+=("checkov dockerfile: nothing checked")

# Secrets: reports findings only, so no finding is the pass.
run_checkov secrets "$work/secrets.counts" -d deploy --framework secrets || failed+=("checkov secrets")
read -r _ s_fail _ _ _ <"$work/secrets.counts"

# --- deploy/aws --------------------------------------------------------------
# The generator on the example parameters: its output is what is linted, and
# must be what deploy/aws/example/ holds.
aws="$work/aws"
if ! "$venv/bin/python" deploy/aws/generate.py deploy/aws/params.example.toml "$aws" >/dev/null; then
  failed+=("deploy/aws/generate.py")
elif ! diff -r "$aws" deploy/aws/example >"$work/aws.diff"; then
  head -40 "$work/aws.diff"
  echo "lint-deploy: deploy/aws/example/ is not what deploy/aws/params.example.toml renders to;"
  echo "  run: python3 deploy/aws/generate.py deploy/aws/params.example.toml deploy/aws/example"
  failed+=("deploy/aws/example out of date")
fi

"$venv/bin/python" - "$aws" >"$work/parliament.out" <<'EOF' || failed+=("parliament")
import json, os, pathlib, re, sys

import parliament
import yaml
from parliament import analyze_policy_string, config, enhance_finding, override_config

root = pathlib.Path(sys.argv[1])
settings = yaml.safe_load((root / "parliament.yaml").read_text())
trust_roles = settings.get("trust_policies", {})
skips = settings.get("skips", [])
used = [0] * len(skips)

# The community auditors' own finding definitions, as `--include-community-auditors` loads them.
override_config(os.path.join(os.path.dirname(parliament.__file__), "community_auditors", "config_override.yaml"))

findings, skipped, policies = [], [], 0
for path in sorted(root.rglob("*.json")):
    rel = path.relative_to(root).as_posix()
    policies += 1
    doc = json.loads(path.read_text())
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    # A trust policy has principals and no Resource (IAM refuses one there);
    # parliament requires one, so each is audited with its role's ARN. A
    # resource policy (the audit bucket's) names both and is audited as is.
    if any(("Principal" in s or "NotPrincipal" in s) and "Resource" not in s for s in statements):
        if rel not in trust_roles:
            findings.append(f"{rel}: a trust policy with no role in parliament.yaml's trust_policies")
            continue
        for s in statements:
            s.setdefault("Resource", trust_roles[rel])
    policy = analyze_policy_string(json.dumps(doc, indent=2), rel,
                                   include_community_auditors=True, config=config)
    for f in map(enhance_finding, policy.findings):
        detail = f.detail if isinstance(f.detail, str) else json.dumps(f.detail, default=str)
        text = f"{rel}: {f.severity} {f.issue} ({f.title}) {detail}".rstrip()
        match = next((i for i, k in enumerate(skips)
                      if k["file"] == path.name and k["issue"] == f.issue
                      and re.search(k.get("detail", ""), detail)), None)
        if match is None:
            findings.append(text)
        else:
            used[match] += 1
            skipped.append(f"{text}\n    skipped: {' '.join(skips[match]['reason'].split())}")
for k, n in zip(skips, used):
    if n == 0:
        findings.append(f"parliament.yaml: the skip of {k['issue']} on {k['file']} matches nothing: remove it")
# One line per skip and file kind, not per account: the reasons are the same.
seen = set()
for s in skipped:
    head, reason = s.split("\n", 1)
    key = (re.sub(r"^[^/]*/", "", head.split(":")[0]), head.split()[2], reason)
    if key not in seen:
        seen.add(key)
        print(f"parliament: {s}")
for f in findings:
    print(f"parliament: FINDING {f}")
print(f"SUMMARY {policies} {len(findings)} {len(skipped)}")
sys.exit(1 if findings else 0)
EOF
grep -v '^SUMMARY ' "$work/parliament.out" || true
read -r _ p_policies p_findings p_skipped < <(grep '^SUMMARY ' "$work/parliament.out" || echo "SUMMARY 0 1 0")

run_checkov cloudformation "$work/cfn.counts" -d "$aws" --framework cloudformation || failed+=("checkov cloudformation")
read -r c_pass c_fail c_skip c_res _ <"$work/cfn.counts"
((c_res > 0)) || failed+=("checkov cloudformation: no resources found")

# The example overlays' lapse.yaml name the roles and the bucket the example
# parameters render: the report overlay the read roles only, the enforce
# overlay the write roles and the audit bucket too.
"$venv/bin/python" - "$aws/lapse-aws.yaml" deploy/kubernetes/overlays <<'EOF' || failed+=("overlays' lapse.yaml against deploy/aws")
import pathlib, sys, yaml
rendered = yaml.safe_load(pathlib.Path(sys.argv[1]).read_text())
bad = []
for path in sorted(pathlib.Path(sys.argv[2]).glob("*/lapse.yaml")):
    config = yaml.safe_load(path.read_text())
    aws = config.get("aws", {})
    enforce = config.get("mode") == "enforce"
    want_accounts = {
        name: {k: v for k, v in acct.items() if enforce or k != "write_role_arn"}
        for name, acct in rendered["aws"]["accounts"].items()
    }
    if aws.get("users_account") != rendered["aws"]["users_account"]:
        bad.append(f"{path}: aws.users_account is not {rendered['aws']['users_account']}")
    if aws.get("accounts") != want_accounts:
        bad.append(f"{path}: aws.accounts is not {want_accounts}")
    if "audit_log" in config:
        bad.append(f"{path}: audit_log: the audit goes to `audit:`")
    if enforce and config.get("audit") != rendered["audit"]:
        bad.append(f"{path}: mode enforce, but audit is not {rendered['audit']}")
    if not enforce and "write_role_arn" in str(aws):
        bad.append(f"{path}: mode report names a write role")
for b in bad:
    print(f"lint-deploy: {b}")
sys.exit(1 if bad else 0)
EOF

# --- the Dockerfile's base images --------------------------------------------
# Every FROM names its image by digest; a placeholder digest (all zeros) is
# accepted here and said, since no registry serves it: a build fails at once.
froms="$(grep -iE '^FROM[[:space:]]' deploy/Dockerfile)"
if grep -viE '^FROM[[:space:]]+[^[:space:]]+:[^[:space:]@]+@sha256:[0-9a-f]{64}([[:space:]]|$)' <<<"$froms"; then
  echo "lint-deploy: deploy/Dockerfile: every FROM must be IMAGE:TAG@sha256:DIGEST"
  failed+=("Dockerfile FROM not pinned by digest")
fi
placeholders="$(grep -c '@sha256:0\{64\}' <<<"$froms" || true)"
if ((placeholders > 0)); then
  echo "lint-deploy: note: deploy/Dockerfile has $placeholders placeholder digest(s) to fill in before a build (see its comment)"
fi

# --- references ----------------------------------------------------------------
# The project describes lapse in its own words: no pointer to a document
# outside the repository (a numbered section, a path out of it).
if grep -rnE '§|\.\./shared/|\b[Ss]ection [0-9]' deploy src tests config benches examples README.md; then
  echo "lint-deploy: the project refers to a document outside the repository (above): say what is meant instead"
  failed+=("references outside the repository")
fi

# --- summary ----------------------------------------------------------------
summary="checkov kubernetes ${k_pass} passed/${k_fail} failed/${k_skip} skipped over ${k_res} resources (${k_note:-$k8s_note}; ${copies} overlays also copied out); dockerfile ${d_pass}/${d_fail}/${d_skip}; cloudformation ${c_pass}/${c_fail}/${c_skip}; secrets ${s_fail} found; parliament ${p_policies} policies, ${p_findings} findings, ${p_skipped} skipped; $((SECONDS - start)) s"
if ((${#failed[@]})); then
  joined="$(printf '%s; ' "${failed[@]}")"
  echo "lint-deploy: FAILED (${joined%; }): $summary"
  exit 1
fi
echo "lint-deploy: ok: $summary"
