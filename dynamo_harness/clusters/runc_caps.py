#!/usr/bin/python3
"""The private dockerd's OCI runtime: runc, granting only the capabilities this machine has.

Docker gives a privileged container (every kind node is one) the whole capability list of the
kernel. This VM's bounding set lacks CAP_SYS_RESOURCE, so runc fails with "unable to apply caps:
operation not permitted". containerd solves the same problem by granting "all current
capabilities"; this wrapper does that for Docker: before `runc create|run|exec` it drops from the
OCI spec every capability outside its own bounding set, then execs runc with the same arguments.
Only the Python standard library: dockerd's containerd-shim runs it as a plain executable.
"""

import json
import os
import sys

RUNC = "/usr/bin/runc"
# runc's global options that take a value (they come before the command).
GLOBAL_WITH_VALUE = {"--root", "--log", "--log-format", "--criu", "--rootless"}
CAP_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")
# capability(7) numbers, as the OCI spec names them.
CAP_NAMES = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
)


def bounding_set() -> set[str]:
    with open("/proc/self/status") as status:
        mask = int(next(line for line in status if line.startswith("CapBnd:")).split()[1], 16)
    return {f"CAP_{name}" for bit, name in enumerate(CAP_NAMES) if mask >> bit & 1}


def spec_file(args: list[str]) -> tuple[str, str] | None:
    """(command, JSON file holding its process capabilities) for create/run/exec, else None."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 1 + (args[i] in GLOBAL_WITH_VALUE)
    if i >= len(args) or args[i] not in ("create", "run", "exec"):
        return None
    command, rest = args[i], args[i + 1:]
    flags = ("--process", "-p") if command == "exec" else ("--bundle", "-b")
    value = next((rest[j + 1] for j, arg in enumerate(rest[:-1]) if arg in flags), None)
    value = value or next((arg.split("=", 1)[1] for arg in rest if arg.split("=", 1)[0] in flags), None)
    if command == "exec":
        return (command, value) if value else None
    return command, os.path.join(value or os.getcwd(), "config.json")


def drop_missing_caps(path: str, is_exec: bool) -> None:
    with open(path) as file:
        spec = json.load(file)
    capabilities = (spec if is_exec else spec.get("process", {})).get("capabilities")
    if not capabilities:
        return
    allowed = bounding_set()
    for name in CAP_SETS:
        if name in capabilities:
            capabilities[name] = [cap for cap in capabilities[name] if cap in allowed]
    with open(path, "w") as file:
        json.dump(spec, file)


def main() -> None:
    args = sys.argv[1:]
    if found := spec_file(args):
        drop_missing_caps(found[1], found[0] == "exec")
    os.execv(RUNC, [RUNC, *args])


if __name__ == "__main__":
    main()
