"""A private Docker engine for the kind provider, and how to undo everything it did to the host.

Debian's dockerd (hack/versions.env pins docker.io) runs with its own data root, exec root,
socket, pidfile, daemon config, cgroup parent and network bridge, all named here. It never talks
to a Docker the user runs: every client call goes to our socket with a client config of our own,
through the Debian docker CLI (not whatever `docker` comes first on PATH).

Host changes, and why none of them reach the machine's other networks:
- `--iptables=false --ip6tables=false --ip-forward=false --ip-masq=false`: dockerd adds no DOCKER
  chains, leaves the FORWARD policy and net.ipv4.ip_forward alone (Docker sets the policy to DROP
  when it turns forwarding on, which would cut the local cluster's bridge off). Nothing here needs
  them: kind nodes reach each other on one bridge, and the API server port reaches the host
  through docker-proxy on 127.0.0.1.
- `--bridge=none`: no docker0. The one network is NETWORK on bridge BRIDGE (SUBNET).
- FORWARD_CHAIN accepts traffic between the nodes on BRIDGE (bridged frames pass the FORWARD chain
  when br_netfilter is on), so a DROP policy set by someone else cannot break the cluster.
- The OCI runtime is runc through runc_caps.py (see there: this VM lacks CAP_SYS_RESOURCE).
- Containers' cgroups live under CGROUP_PARENT in every hierarchy.

stop() removes containers, volumes and the network, stops dockerd and its shims, and removes the
mounts, chain, bridge, cgroups and state; `leftovers()` lists whatever is still there.

    python -m dynamo_harness.clusters.dockerd start|stop|status|leftovers|check
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..paths import ROOT
from ..processes import ProcessError, Supervisor
from . import host

DOCKERD = "/usr/sbin/dockerd"
DOCKER_CLI = "/usr/bin/docker"  # Debian's client, pinned with the daemon (docker.io)
RUNTIME = Path(__file__).with_name("runc_caps.py")
STATE = ROOT / ".cache" / "kind" / "docker"
NETWORK = "dynamo-kind"
BRIDGE = "dynkind0"
SUBNET = "10.223.0.0/24"
GATEWAY = "10.223.0.1"
FORWARD_CHAIN = "DYNKIND-FORWARD"
CGROUP_PARENT = "dynamo-kind"
OWNER_LABEL = "dev.dynamo-platform.owner=dynamo-harness"
# Paths dockerd creates on the host outside its roots: removed on stop() when this engine made them.
HOST_PATHS = (Path("/run/docker/plugins"), Path("/run/docker"), Path("/lib/modules"))


class DockerError(RuntimeError):
    pass


@dataclass
class Dockerd:
    state_dir: Path = STATE

    def __post_init__(self) -> None:
        self.state_dir = self.state_dir.resolve()  # runc refuses a rootfs path through a symlink

    # The socket path must stay under 108 bytes; these are short even in deep checkouts.
    @property
    def socket(self) -> Path:
        return self.state_dir / "docker.sock"

    @property
    def network(self) -> str:
        return NETWORK

    @property
    def processes(self) -> Supervisor:
        return Supervisor(self.state_dir)

    @property
    def env(self) -> dict[str, str]:
        """Environment for docker clients (kind included): our socket, our client config, and
        Debian's docker CLI first on PATH."""
        return {**os.environ, "DOCKER_HOST": f"unix://{self.socket}", "DOCKER_CONFIG": str(self.state_dir / "client"),
                "PATH": f"{self.state_dir / 'bin'}:{os.environ.get('PATH', '')}", "DOCKER_CONTEXT": "default"}

    # -- can it run here? ------------------------------------------------------------------

    def unavailable(self) -> str | None:
        """Why a private dockerd cannot run here (one line), or None."""
        if os.geteuid() != 0:
            return "not root (dockerd needs root; rootless Docker is not set up here)"
        missing = [path for path in (DOCKERD, DOCKER_CLI, "/usr/bin/runc") if not Path(path).exists()]
        if missing:
            return f"{', '.join(missing)} missing: run `hack/bootstrap.sh --with-kind` as root (installs docker.io)"
        if not host.CGROUP_ROOT.joinpath("memory").is_dir() and not host.CGROUP_ROOT.joinpath("cgroup.controllers").exists():
            return "no cgroup filesystem at /sys/fs/cgroup"
        return None

    # -- lifecycle -------------------------------------------------------------------------

    def alive(self) -> bool:
        return self.processes.alive("dockerd") and self.docker("version", check=False).returncode == 0

    def start(self) -> None:
        """Start dockerd (if it is not running) and make its network; idempotent."""
        if self.alive():
            self._ensure_network()
            return
        self.stop()  # whatever a crashed run left
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "host-paths.json").write_text(json.dumps([str(p) for p in HOST_PATHS if p.exists()]))
        # Our own daemon config, never /etc/docker/daemon.json; the daemon's identity key goes with
        # it (its default is /etc/docker/key.json; only the config file can move it).
        (self.state_dir / "daemon.json").write_text(json.dumps({"deprecated-key-path": str(self.state_dir / "key.json")}))
        (self.state_dir / "client").mkdir(exist_ok=True)
        (self.state_dir / "bin").mkdir(exist_ok=True)
        (self.state_dir / "bin" / "docker").unlink(missing_ok=True)
        (self.state_dir / "bin" / "docker").symlink_to(DOCKER_CLI)
        self.processes.start("dockerd", [
            DOCKERD, f"--config-file={self.state_dir / 'daemon.json'}",
            f"--data-root={self.state_dir / 'data'}", f"--exec-root={self.state_dir / 'exec'}",
            f"--pidfile={self.state_dir / 'dockerd.pid.daemon'}", f"--host=unix://{self.socket}",
            "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
            f"--cgroup-parent=/{CGROUP_PARENT}", "--exec-opt=native.cgroupdriver=cgroupfs",
            # dockerd's own default (-500) needs CAP_SYS_RESOURCE, which this VM lacks.
            "--oom-score-adjust=0",
            f"--add-runtime=caps={RUNTIME}", "--default-runtime=caps",
            "--log-level=warn",
        ])
        self.processes.wait(lambda: self.docker("version", check=False).returncode == 0, "dockerd", 60, ["dockerd"])
        self._ensure_network()

    def _ensure_network(self) -> None:
        if self.docker("network", "inspect", NETWORK, check=False).returncode != 0:
            self.docker("network", "create", "--driver=bridge", f"--subnet={SUBNET}", f"--gateway={GATEWAY}",
                        f"--label={OWNER_LABEL}", f"--opt=com.docker.network.bridge.name={BRIDGE}",
                        "--opt=com.docker.network.bridge.enable_ip_masquerade=false", NETWORK)
        host.run("iptables", "-w", "-N", FORWARD_CHAIN, check=False)
        host.run("iptables", "-w", "-F", FORWARD_CHAIN)
        host.run("iptables", "-w", "-A", FORWARD_CHAIN, "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT")
        if host.run("iptables", "-w", "-C", "FORWARD", "-j", FORWARD_CHAIN, check=False).returncode != 0:
            host.run("iptables", "-w", "-I", "FORWARD", "1", "-j", FORWARD_CHAIN)

    def stop(self) -> None:
        """Remove every container, volume and network, stop dockerd, undo its host changes and
        delete its state; safe to call when nothing runs."""
        if not self.state_dir.exists() and not self.leftovers():
            return
        if self.processes.alive("dockerd"):
            containers = self.docker("ps", "-aq", check=False).stdout.split()
            if containers:
                self.docker("rm", "--force", "--volumes", *containers, check=False)
            self.docker("network", "rm", NETWORK, check=False)
            self.docker("volume", "prune", "--force", check=False)
        self.processes.stop(["dockerd"], grace=20)
        # Shims and containers outlive a killed dockerd: they name our exec root on their command line.
        host.kill(host.processes_mentioning(str(self.state_dir / "exec")))
        host.unmount_all(self.state_dir)
        if host.bridge_exists(BRIDGE):
            host.run("ip", "link", "delete", BRIDGE, check=False)
        if FORWARD_CHAIN in _chains():
            while host.run("iptables", "-w", "-D", "FORWARD", "-j", FORWARD_CHAIN, check=False).returncode == 0:
                pass
            host.run("iptables", "-w", "-F", FORWARD_CHAIN, check=False)
            host.run("iptables", "-w", "-X", FORWARD_CHAIN, check=False)
        host.remove_cgroups(CGROUP_PARENT)
        self._remove_host_paths()
        if host.mounts_under(self.state_dir):
            raise DockerError(f"mounts left under {self.state_dir}; not deleting it: {host.mounts_under(self.state_dir)}")
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def _remove_host_paths(self) -> None:
        """The empty directories dockerd made outside its roots (never one that was there before)."""
        try:
            existed = set(json.loads((self.state_dir / "host-paths.json").read_text()))
        except (OSError, ValueError):
            return
        for path in HOST_PATHS:
            if str(path) not in existed and path.is_dir():
                try:
                    path.rmdir()  # only when empty
                except OSError:
                    pass

    def leftovers(self) -> list[str]:
        """What a stopped engine would have left on the host."""
        found = [f"mount {m}" for m in host.mounts_under(self.state_dir)]
        found += [f"process {p}" for p in host.processes_mentioning(str(self.state_dir))]
        found += [f"bridge {BRIDGE}"] if host.bridge_exists(BRIDGE) else []
        found += [f"bridge {link.name}" for link in Path("/sys/class/net").glob("br-*")]
        found += ["bridge docker0"] if host.bridge_exists("docker0") else []
        found += [f"iptables chain {c}" for c in _chains() if c == FORWARD_CHAIN or c.startswith("DOCKER")]
        found += [f"cgroup {c}" for c in host.cgroups_named(CGROUP_PARENT)]
        found += [f"state dir {self.state_dir}"] if self.state_dir.exists() else []
        return found

    # -- clients ---------------------------------------------------------------------------

    def docker(self, *args: str, check: bool = True, input: bytes | str | None = None, stdin: Path | None = None,
               timeout: float = 600) -> subprocess.CompletedProcess:
        """Run the docker CLI against this engine; `stdin` streams a file (an image archive)."""
        with stdin.open("rb") if stdin else open(os.devnull, "rb") as source:
            result = subprocess.run([DOCKER_CLI, *args], env=self.env, capture_output=True, timeout=timeout,
                                    text=not isinstance(input, bytes) and stdin is None,
                                    **({"input": input} if input is not None else {"stdin": source}))
        if check and result.returncode != 0:
            stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode(errors="replace")
            raise DockerError(f"docker {' '.join(args[:3])} failed ({result.returncode}): {stderr.strip()[-2000:]}")
        return result

    def info(self) -> dict:
        return json.loads(self.docker("info", "--format", "{{json .}}").stdout)


def _chains() -> list[str]:
    return [c for chains in host.our_chains("iptables", prefixes=("DOCKER", FORWARD_CHAIN)).values() for c in chains]


# -- feasibility check: `python -m dynamo_harness.clusters.dockerd check` ------------------------

def check(engine: Dockerd) -> int:
    """Start the private engine, run a privileged container the way kind runs its nodes, report
    the first thing that fails, and stop again. Rerunnable; prints one line per step."""
    steps = []

    def step(name: str, action) -> bool:
        started = time.monotonic()
        try:
            detail = action() or ""
        except (DockerError, ProcessError, OSError, subprocess.SubprocessError) as err:
            print(f"FAIL {name}: {str(err).strip().splitlines()[-1] if str(err).strip() else err!r}")
            steps.append(False)
            return False
        print(f"ok   {name} ({time.monotonic() - started:.1f}s){': ' + detail if detail else ''}")
        steps.append(True)
        return True

    if reason := engine.unavailable():
        print(f"FAIL docker cannot run here: {reason}")
        return 1

    def started():
        engine.start()
        info = engine.info()
        return (f"{info['ServerVersion']}, {info['Driver']}, cgroup {info['CgroupDriver']} v{info['CgroupVersion']}, "
                f"runtime {info['DefaultRuntime']}")

    def privileged():
        image = _tiny_image(engine)
        out = engine.docker("run", "--rm", "--privileged", "--cgroupns=private", "--security-opt=seccomp=unconfined",
                            "--net", NETWORK, image, "/sbin/docker-init", "--version").stdout
        return out.strip()

    def plain_runc():
        result = engine.docker("run", "--rm", "--privileged", "--runtime=runc", _tiny_image(engine),
                               "/sbin/docker-init", "--version", check=False)
        if result.returncode == 0:
            return "plain runc runs privileged containers here too: runc_caps.py is not needed on this machine"
        return "plain runc fails here as expected (" + result.stderr.strip().splitlines()[-1][-90:] + ")"

    try:
        if step("start a private dockerd", started):
            step("run a privileged container on the kind network", privileged)
            step("why the runtime is runc_caps.py", plain_runc)
    finally:
        step("stop it and undo its host changes", engine.stop)
        left = engine.leftovers()
        print(("FAIL leftovers: " + ", ".join(left)) if left else "ok   nothing left behind")
    return 0 if all(steps) and not left else 1


def _tiny_image(engine: Dockerd) -> str:
    """A one-file image (Debian's static docker-init) imported from a tar: nothing is pulled."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(os.path.realpath("/usr/bin/docker-init"), arcname="sbin/docker-init")
    ref = "localhost/dynamo-local/docker-init:check"
    engine.docker("import", "-", ref, input=buffer.getvalue())
    return ref


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dynamo_harness.clusters.dockerd", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "leftovers", "check"])
    args = parser.parse_args(argv)
    engine = Dockerd()
    if args.command == "check":
        return check(engine)
    if args.command == "start":
        if reason := engine.unavailable():
            print(f"dockerd: cannot run here: {reason}", file=sys.stderr)
            return 1
        engine.start()
        print(f"dockerd: running; export DOCKER_HOST=unix://{engine.socket}")
    elif args.command == "stop":
        engine.stop()
    elif args.command == "status":
        print("running" if engine.alive() else "stopped")
    left = engine.leftovers() if args.command in ("stop", "leftovers") else []
    for item in left:
        print(f"left behind: {item}")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
