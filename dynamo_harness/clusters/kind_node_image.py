"""The kind node image, built here from pinned sources the way kind v0.30.0 builds its own; nothing
is pulled.

Three stages, each cached under .cache/images with a key over everything that goes into it:
- the base image (recipe `kind-base`), kind's images/base recipe: Debian bookworm with systemd and
  the packages kind installs, kind's own files (entrypoint, systemd units, containerd config) read
  from the pinned kind module, containerd/ctr/shim at kind's version (hack/tools/containerd), the
  CNI plugins kind ships (hack/tools/cni-plugins) and Debian's runc;
- the images the node runs (KIND_RECIPES): kubeadm's control plane, kube-proxy, etcd and CoreDNS
  (the Kubernetes binaries hack/bootstrap.sh builds), the pod sandbox (images.py's pause), the
  default StorageClass's local-path-provisioner at kind's version, and the pod network (kind-cni,
  in kindnetd's role: kindnetd's source is not on the Go module proxy here);
- the node image (`node_image`), kind's `build node-image` steps run with the private dockerd:
  the base plus kubeadm, kubelet and kubectl, /kind/version, the CNI and storage manifests, and
  every image above imported into the node's containerd; saved as a docker archive.

kubeadm finds the images under KUBEADM_REPOSITORY (clusters/kind.py points it there).

    python -m dynamo_harness.clusters.kind_node_image build      # base and node images (root: buildah)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .. import images
from ..images import GO_TOOLS, REGISTRY, ImageError, Recipe, debian_install, go_build, go_module_version
from ..paths import ROOT, TOOLS_BIN

KIND_MODULE = "sigs.k8s.io/kind"
KUBE_VERSION = go_module_version("kube", "k8s.io/kubernetes")
CONTAINERD_VERSION = go_module_version("containerd", "github.com/containerd/containerd/v2")
CNI_PLUGINS_VERSION = go_module_version("cni-plugins", "github.com/containernetworking/plugins")
LOCAL_PATH_VERSION = go_module_version("local-path-provisioner", "github.com/rancher/local-path-provisioner")
ETCD_VERSION = go_module_version("etcd", "go.etcd.io/etcd/server/v3")
COREDNS_VERSION = go_module_version("coredns", "github.com/coredns/coredns")
KUBEADM_REPOSITORY = f"{REGISTRY}/kind"
ETCD_TAG = ETCD_VERSION.removeprefix("v") + "-0"  # the style of registry.k8s.io/etcd tags
# The packages kind's base Dockerfile installs (its list, less the network-storage clients
# nfs-common and open-iscsi and the rootless-only fuse-overlayfs), plus Debian's runc.
BASE_PACKAGES = {
    "systemd": "252.39-1~deb12u2", "conntrack": "1:1.4.7-1+b2", "iptables": "1.8.9-2",
    "nftables": "1.0.6-2+deb12u2", "iproute2": "6.1.0-3", "ethtool": "1:6.1-1",
    "util-linux": "2.38.1-5+deb12u3", "mount": "2.38.1-5+deb12u3", "kmod": "30+20221128-1",
    "libseccomp2": "2.5.4-1+deb12u1", "pigz": "2.6-1", "bash": "5.2.15-2+b13",
    "ca-certificates": "20250419~deb12u2", "curl": "7.88.1-10+deb12u15", "jq": "1.6-2.1+deb12u3",
    "procps": "2:4.0.2-3", "runc": "1.1.5+ds1-1+deb12u1",
}
LIBC = {"libc6": "2.36-9+deb12u14"}  # the Kubernetes binaries hack/bootstrap.sh builds link glibc
KUBE_PROXY_PACKAGES = {**LIBC, "iptables": "1.8.9-2"}
HELPER_PACKAGES = {"bash": "5.2.15-2+b13", "coreutils": "9.1-1"}
ROUTES_PACKAGES = {"iproute2": "6.1.0-3"}
CONTAINERD_TAGS = "no_aufs no_zfs no_btrfs no_devmapper"  # kind's BUILDTAGS
# kind's base image adds a createContainer hook to containerd's default spec (cri-base.json).
PRODUCT_FILES_HOOK = "/kind/bin/mount-product-files.sh"


def kind_module_dir() -> Path:
    """The pinned kind module's source (hack/tools/kind/go.sum), from the Go module cache."""
    out = subprocess.run(["go", "mod", "download", "-json", KIND_MODULE], cwd=GO_TOOLS / "kind", capture_output=True,
                         text=True, env={**os.environ, "GOFLAGS": "-mod=readonly"})
    if out.returncode != 0:
        raise ImageError(f"go mod download {KIND_MODULE} failed: {out.stderr.strip()}")
    return Path(json.loads(out.stdout)["Dir"])


# --- the base image ---------------------------------------------------------------------------

def fill_base(recipe: Recipe, root: Path) -> None:
    debian_install(root, BASE_PACKAGES, variant="minbase")
    files = kind_module_dir() / "images" / "base" / "files"
    for source in sorted(files.rglob("*")):
        target = root / source.relative_to(files)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            target.chmod(0o755)
        else:
            shutil.copyfile(source, target)
            executable = source.parent.name == "bin"  # usr/local/bin and kind/bin: scripts
            target.chmod(0o755 if executable else 0o644)
    # The Dockerfile's RUN steps: systemd as a container's init, with only kind's units enabled.
    (root / "lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service").unlink(missing_ok=True)
    for pattern in ("lib/systemd/system/multi-user.target.wants/*", "etc/systemd/system/*.wants/*",
                    "lib/systemd/system/local-fs.target.wants/*", "lib/systemd/system/sockets.target.wants/*udev*",
                    "lib/systemd/system/sockets.target.wants/*initctl*", "lib/systemd/system/basic.target.wants/*"):
        for path in root.glob(pattern):
            path.unlink()
    with (root / "etc/systemd/journald.conf").open("a") as journald:
        journald.write("ReadKMsg=no\n")
    (root / "sbin/init").unlink(missing_ok=True)
    (root / "sbin/init").symlink_to("/lib/systemd/systemd")
    _chroot(root, "systemctl", "enable", "kubelet.service", "containerd.service", "undo-mount-hacks.service")
    _chroot(root, "systemctl", "mask", "systemd-binfmt.service")
    (root / "etc/kubernetes/manifests").mkdir(parents=True, exist_ok=True)
    # Pods reach other nodes' pods through this node: forward in the node's network namespace. A
    # new namespace copies the host's setting, and the private dockerd leaves the host's alone.
    (root / "etc/sysctl.d/20-dynamo-forwarding.conf").write_text("net.ipv4.ip_forward=1\n")
    version = f"-X github.com/containerd/containerd/v2/version.Version={CONTAINERD_VERSION}"
    for binary in ("containerd", "ctr", "containerd-shim-runc-v2"):
        go_build(root / "usr/local/bin" / binary, "containerd", f"github.com/containerd/containerd/v2/cmd/{binary}",
                 tags=CONTAINERD_TAGS, ldflags=version)
    spec = json.loads(images._run([str(root / "usr/local/bin/ctr"), "oci", "spec"]))
    spec.setdefault("hooks", {}).setdefault("createContainer", []).append({"path": PRODUCT_FILES_HOOK})
    spec["process"].pop("rlimits", None)
    (root / "etc/containerd/cri-base.json").write_text(json.dumps(spec, indent=4) + "\n")
    for plugin in ("ipam/host-local", "main/loopback", "main/ptp", "meta/portmap"):
        go_build(root / "opt/cni/bin" / Path(plugin).name, "cni-plugins",
                 f"github.com/containernetworking/plugins/plugins/{plugin}")


def _chroot(root: Path, *argv: str) -> None:
    images._run(["chroot", str(root), *argv])


# --- the images the node runs -------------------------------------------------------------------

def fill_kube(recipe: Recipe, root: Path) -> None:
    """One Kubernetes binary from hack/bootstrap.sh's build (it links glibc) in /usr/local/bin."""
    binary = recipe.repository.rsplit("/", 1)[-1]
    debian_install(root, KUBE_PROXY_PACKAGES if binary == "kube-proxy" else LIBC)
    _copy_tool(binary, root / "usr/local/bin" / binary)
    if binary == "kube-proxy":
        # Debian selects iptables' backend with alternatives, which an unpacked image lacks: the
        # nft one, as the kind node's own (its entrypoint detects nft on this kernel).
        for name in ("iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"):
            (root / "usr/sbin" / name).unlink(missing_ok=True)
            (root / "usr/sbin" / name).symlink_to("xtables-nft-multi")


def fill_etcd(recipe: Recipe, root: Path) -> None:
    debian_install(root, LIBC)
    _copy_tool("etcd", root / "usr/local/bin/etcd")


def fill_coredns(recipe: Recipe, root: Path) -> None:
    """CoreDNS with the plugins of kubeadm's Corefile (hack/tools/coredns), at kubeadm's version."""
    go_build(root / "coredns", "coredns", ".")


def fill_local_path_provisioner(recipe: Recipe, root: Path) -> None:
    go_build(root / "usr/local/bin/local-path-provisioner", "local-path-provisioner",
             "github.com/rancher/local-path-provisioner")
    images.write_users(root)
    images.make_dirs(root, {"tmp": (0, 0o1777)})


def fill_helper(recipe: Recipe, root: Path) -> None:
    """The provisioner's helper pods run `sh /script/setup` (mkdir, rm, chmod): bash as sh, as kind's."""
    debian_install(root, HELPER_PACKAGES)
    bash = next(d for d in ("bin", "usr/bin") if (root / d / "bash").exists())  # unpacked images are not usr-merged
    (root / bash / "sh").unlink(missing_ok=True)
    (root / bash / "sh").symlink_to("bash")
    images.make_dirs(root, {"tmp": (0, 0o1777)})


def fill_kind_cni(recipe: Recipe, root: Path) -> None:
    debian_install(root, ROUTES_PACKAGES)
    go_build(root / "usr/local/bin/kind-cni", "kind-cni", ".")


def _copy_tool(name: str, target: Path) -> None:
    source = TOOLS_BIN / name
    if not source.exists():
        raise ImageError(f"{source} is missing: run `hack/bootstrap.sh --with-kind` (it builds the Kubernetes binaries)")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)


# --- recipes -----------------------------------------------------------------------------------
# Each recipe's pins name the constants its fill function reads, here or in images.py, as images.py's
# recipes do (tests/images/test_image_keys.py checks the lists are exact).

def _kube_recipe(component: str, packages: dict[str, str]) -> Recipe:
    return Recipe(f"kind-{component}", KUBE_VERSION, fill_kube, entrypoint=[f"/usr/local/bin/{component}"], user="0:0",
                  repository=f"kind/{component}", inputs=("hack/tools/kube",),
                  pins=("LIBC", "KUBE_PROXY_PACKAGES", *images.DEBIAN_PINS),
                  sources=f"k8s.io/kubernetes@{KUBE_VERSION} (hack/tools/kube); Debian {images.DEBIAN_SUITE}: "
                          + " ".join(f"{n}={v}" for n, v in packages.items()))


BASE = Recipe(
    "kind-base", f"{KIND_MODULE.rsplit('/', 1)[-1]}-{go_module_version('kind', KIND_MODULE)}", fill_base,
    entrypoint=["/usr/local/bin/entrypoint", "/sbin/init"], user="0:0", env={"container": "docker"},
    stop_signal="SIGRTMIN+3", repository="kind/base",
    pins=("BASE_PACKAGES", "KIND_MODULE", "CONTAINERD_VERSION", "CONTAINERD_TAGS", "PRODUCT_FILES_HOOK",
          *images.DEBIAN_PINS),
    inputs=("hack/tools/kind/go.sum", "hack/tools/containerd", "hack/tools/cni-plugins"),
    sources=f"{KIND_MODULE}@{go_module_version('kind', KIND_MODULE)} images/base (hack/tools/kind); containerd "
            f"{CONTAINERD_VERSION} (hack/tools/containerd); CNI plugins {CNI_PLUGINS_VERSION} (hack/tools/cni-plugins); "
            f"Debian {images.DEBIAN_SUITE}: " + " ".join(f"{n}={v}" for n, v in BASE_PACKAGES.items()))

KIND_RECIPES: dict[str, Recipe] = {r.name: r for r in (
    BASE,
    _kube_recipe("kube-apiserver", LIBC),
    _kube_recipe("kube-controller-manager", LIBC),
    _kube_recipe("kube-scheduler", LIBC),
    _kube_recipe("kube-proxy", KUBE_PROXY_PACKAGES),
    Recipe("kind-etcd", ETCD_TAG, fill_etcd, entrypoint=["/usr/local/bin/etcd"], user="0:0", repository="kind/etcd",
           inputs=("hack/tools/etcd",), pins=("LIBC", *images.DEBIAN_PINS),
           sources=f"go.etcd.io/etcd/server/v3@{ETCD_VERSION} (hack/tools/etcd); Debian {images.DEBIAN_SUITE}: libc6"),
    Recipe("kind-coredns", COREDNS_VERSION, fill_coredns, entrypoint=["/coredns"], user="0:0",
           repository="kind/coredns", inputs=("hack/tools/coredns",),
           sources=f"github.com/coredns/coredns@{COREDNS_VERSION} (hack/tools/coredns)"),
    Recipe("kind-local-path-provisioner", LOCAL_PATH_VERSION, fill_local_path_provisioner,
           entrypoint=["/usr/local/bin/local-path-provisioner"], user="0:0", repository="kind/local-path-provisioner",
           inputs=("hack/tools/local-path-provisioner",), pins=images.USER_PINS,
           sources=f"github.com/rancher/local-path-provisioner@{LOCAL_PATH_VERSION} (hack/tools/local-path-provisioner)"),
    Recipe("kind-local-path-helper", "bash-" + HELPER_PACKAGES["bash"].split("-")[0], fill_helper,
           entrypoint=["/bin/sh"], user="0:0", repository="kind/local-path-helper",
           env={"PATH": "/usr/bin:/bin"}, pins=("HELPER_PACKAGES", *images.DEBIAN_PINS),
           sources=f"Debian {images.DEBIAN_SUITE}: " + " ".join(f"{n}={v}" for n, v in HELPER_PACKAGES.items())),
    Recipe("kind-cni", "v1", fill_kind_cni, entrypoint=["/usr/local/bin/kind-cni"], user="0:0",
           repository="kind/cni", inputs=("hack/tools/kind-cni",), env={"PATH": "/usr/sbin:/usr/bin:/bin"},
           pins=("ROUTES_PACKAGES", *images.DEBIAN_PINS),
           sources="hack/tools/kind-cni; Debian " + images.DEBIAN_SUITE + ": "
                   + " ".join(f"{n}={v}" for n, v in ROUTES_PACKAGES.items())),
)}
# Imported into the node: every recipe but the base, and the local node's pod sandbox.
NODE_IMAGES = [*(name for name in KIND_RECIPES if name != BASE.name)]
SANDBOX = images.RECIPES["pause"]


# --- the node image: kind's `build node-image` steps, run with the private dockerd ---------------

NODE_REPOSITORY = f"{REGISTRY}/kind/node"
NODE_CLI = ("kubeadm", "kubelet", "kubectl")  # kind copies these into /usr/bin
KEY_LABEL = "dev.dynamo-platform.image-key"
# The constants the node build (_build_node and its callees) reads; their values go into the node's key.
NODE_PINS = ("KUBE_VERSION", "KIND_MODULE", "NODE_CLI", "KEY_LABEL", "IMPORT")
# kind's importer: images stay packed until a pod uses them, pinned against garbage collection.
IMPORT = ["ctr", "--namespace=k8s.io", "images", "import", "--label=io.cri-containerd.pinned=pinned",
          "--all-platforms", "--no-unpack", "--digests", "-"]


def storage_manifest(module: Path) -> str:
    """kind's default StorageClass manifest (pkg/build/nodeimage/const_storage.go in the pinned
    module), with our provisioner and helper images in place of kind's."""
    source = (module / "pkg/build/nodeimage/const_storage.go").read_text()
    # The Go constant: raw strings joined by `+` around the two image constants.
    found = re.search(r"const defaultStorageManifest = ((?:`[^`]*`(?:\s*\+\s*\w+\s*\+\s*)?)+)", source)
    if not found:
        raise ImageError("kind's const_storage.go no longer holds defaultStorageManifest: update kind_node_image.py")
    refs = {"storageProvisionerImage": KIND_RECIPES["kind-local-path-provisioner"].ref,
            "storageHelperImage": KIND_RECIPES["kind-local-path-helper"].ref}
    return "".join(raw or refs[name] for raw, name in re.findall(r"`([^`]*)`|(\w+)", found.group(1)))


def cni_manifest() -> str:
    """The pod network DaemonSet (kind-cni, hack/tools/kind-cni). kind applies the node image's
    /kind/manifests/default-cni.yaml; the marker line below makes it add CONTROL_PLANE_ENDPOINT, so
    the network does not wait for kube-proxy."""
    rules = [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}]
    labels = {"app": "kind-cni", "k8s-app": "kind-cni", "tier": "node"}
    objects = [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "kind-cni"},
         "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "kind-cni"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kind-cni"},
         "subjects": [{"kind": "ServiceAccount", "name": "kind-cni", "namespace": "kube-system"}]},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "kind-cni", "namespace": "kube-system"}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "kind-cni", "namespace": "kube-system",
                                                                   "labels": labels},
         "spec": {"selector": {"matchLabels": {"app": "kind-cni"}}, "template": {
             "metadata": {"labels": labels},
             "spec": {
                 "hostNetwork": True, "nodeSelector": {"kubernetes.io/os": "linux"},
                 "tolerations": [{"operator": "Exists"}], "priorityClassName": "system-node-critical",
                 "serviceAccountName": "kind-cni",
                 "containers": [{
                     "name": "kind-cni", "image": KIND_RECIPES["kind-cni"].ref, "imagePullPolicy": "Never",
                     "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                     "volumeMounts": [{"name": "cni-cfg", "mountPath": "/etc/cni/net.d"}],
                     "resources": {"requests": {"cpu": "10m", "memory": "20Mi"}, "limits": {"memory": "50Mi"}},
                     "securityContext": {"privileged": False, "capabilities": {"add": ["NET_ADMIN"]}},
                 }],
                 "volumes": [{"name": "cni-cfg", "hostPath": {"path": "/etc/cni/net.d"}}],
             }}}},
    ]
    import yaml

    return "# would you kindly patch this file\n" + yaml.safe_dump_all(objects, sort_keys=False)


def node_image(engine, log: Callable[[str], None] = lambda _: None) -> tuple[str, str]:
    """The node image's ref, present in `engine` (a clusters.dockerd.Dockerd): loaded from its
    archive in .cache/images, which is built first when missing. With how it got there: "present"
    (already in the engine), "loaded" (from the cached archive) or "built" (cold)."""
    built = images.build(None, log, recipes=KIND_RECIPES) | images.build([SANDBOX.name], log)
    ref = f"{NODE_REPOSITORY}:{KUBE_VERSION}"
    key = _node_key(built, ref)
    label = engine.docker("image", "inspect", "--format", f'{{{{index .Config.Labels "{KEY_LABEL}"}}}}', ref, check=False)
    if label.returncode == 0 and label.stdout.strip() == key:
        return ref, "present"
    how = "loaded"
    archive = images.CACHE / f"kind-node-{KUBE_VERSION}-{key[:16]}.tar"
    if not archive.exists():
        started = time.monotonic()
        log(f"building {ref}")
        how = "built"
        _build_node(engine, built, key, ref, archive)
        for stale in images.CACHE.glob("kind-node-*.tar"):
            if stale != archive:
                stale.unlink()
        log(f"{ref}: {archive.name} {archive.stat().st_size / 2**20:.0f} MiB, built in {time.monotonic() - started:.0f} s")
    started = time.monotonic()
    engine.docker("load", "--quiet", "--input", str(archive))
    log(f"{ref}: loaded into the private dockerd in {time.monotonic() - started:.0f} s")
    return ref, how


def _node_key(built: dict[str, images.Built], ref: str) -> str:
    """Hash of what the node image is made from: its ref, the node build's code and pins (as a
    recipe's), the images imported into it, and the pins of the binaries copied in."""
    made_of = {"ref": ref, **images.build_code(_build_node).made_of(NODE_PINS, "the node image")}
    digest = hashlib.sha256(json.dumps(made_of, sort_keys=True).encode())
    for name in sorted(built):
        digest.update(built[name].archive.name.encode())  # carries each image's own key
    # kubeadm and the kubelet come from hack/tools/kube, kubectl from the wheel versions.env pins.
    for path in ("hack/tools/kube/go.sum", "hack/versions.env"):
        digest.update((ROOT / path).read_bytes())
    return digest.hexdigest()


def _build_node(engine, built: dict[str, images.Built], key: str, ref: str, archive: Path) -> None:
    base = built[BASE.name]
    engine.docker("load", "--quiet", "--input", str(base.archive))
    container = f"kind-build-{key[:12]}"
    engine.docker("rm", "--force", container, check=False)
    engine.docker("run", "--detach", "--entrypoint=sleep", f"--name={container}", "--security-opt=seccomp=unconfined",
                  "--network=none", base.recipe.ref, "infinity")

    def run(*argv: str, stdin: Path | None = None) -> str:
        return engine.docker("exec", "--interactive", container, *argv, stdin=stdin).stdout

    try:
        for binary in NODE_CLI:
            if not (TOOLS_BIN / binary).exists():
                raise ImageError(f"{TOOLS_BIN / binary} is missing: run `hack/bootstrap.sh --with-kind`")
            engine.docker("cp", str(TOOLS_BIN / binary), f"{container}:/usr/bin/{binary}")
            run("chown", "root:root", f"/usr/bin/{binary}")
            run("chmod", "0755", f"/usr/bin/{binary}")
        module = kind_module_dir()
        config = run("cat", "/etc/containerd/config.toml")
        config = _replace(config, r'sandbox_image = "[^"]*"', f'sandbox_image = "{SANDBOX.ref}"')
        # Pod sandboxes ask for oomScoreAdj -998; lowering it needs CAP_SYS_RESOURCE, which this VM lacks.
        config = _replace(config, r"restrict_oom_score_adj = false", "restrict_oom_score_adj = true")
        with _staged({"/kind/version": KUBE_VERSION, "/kind/manifests/default-cni.yaml": cni_manifest(),
                      "/kind/manifests/default-storage.yaml": storage_manifest(module),
                      "/etc/containerd/config.toml": config}) as files:
            for path, staged in files.items():
                run("mkdir", "-p", str(Path(path).parent))
                run("tee", path, stdin=staged)
        run("bash", "-c", "nohup containerd > /dev/null 2>&1 &")
        run("bash", "-c", "for i in $(seq 50); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done; ctr version")
        for name, item in sorted(built.items()):
            if name != BASE.name:
                run(*IMPORT, stdin=item.archive)
        # `sleep` is the container's PID 1 and reaps nothing: a stopped containerd stays a zombie.
        run("bash", "-c", "pkill containerd; for i in $(seq 50); do ps -C containerd -o stat= | grep -qv Z || exit 0; "
                          "sleep 0.2; done; exit 1")
        engine.docker("commit", "--change", 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]',
                      "--change", f"LABEL {KEY_LABEL}={key}", container, ref)
        partial = archive.with_suffix(".partial")
        engine.docker("save", "--output", str(partial), ref)
        partial.rename(archive)
    finally:
        engine.docker("rm", "--force", container, check=False)


def _replace(text: str, pattern: str, replacement: str) -> str:
    new, count = re.subn(pattern, replacement, text)
    if count != 1:
        raise ImageError(f"kind's containerd config no longer has one `{pattern}`: update kind_node_image.py")
    return new


class _staged:
    """Files written to a temporary directory, to stream into the build container."""

    def __init__(self, contents: dict[str, str]):
        import tempfile

        self._dir = tempfile.TemporaryDirectory(prefix="kind-node-")
        self.files = {}
        for i, (path, text) in enumerate(contents.items()):
            staged = Path(self._dir.name) / str(i)
            staged.write_text(text if text.endswith("\n") else text + "\n")
            self.files[path] = staged

    def __enter__(self) -> dict[str, Path]:
        return self.files

    def __exit__(self, *exc) -> None:
        self._dir.cleanup()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dynamo_harness.clusters.kind_node_image", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build"], help="build the base and node images into .cache/images")
    parser.parse_args(argv)
    from .dockerd import Dockerd

    say = lambda line: print(f"kind images: {line}", flush=True)  # noqa: E731
    engine = Dockerd()
    if reason := engine.unavailable():
        print(f"kind images: the node image needs the private dockerd, which cannot run here: {reason}", file=sys.stderr)
        return 1
    try:
        started = not engine.alive()
        engine.start()
        node_image(engine, say)
    except ImageError as err:
        print(f"kind images: {err}", file=sys.stderr)
        return 1
    finally:
        if started:
            engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
