"""reports/ha.md: one section per overlay, from the JSON each HA run leaves in reports/ha/<overlay>.json
(so runs of different overlays add up, and a rerun replaces its own section)."""

from __future__ import annotations

import json
from pathlib import Path

from ..paths import ROOT

DIRECTORY = ROOT / "reports" / "ha"
INSTALL_KEY = "install to ready (helm install --wait), s"  # under "shape"; make bench reads it back (budgets)
SIMULATED = ("The operator is simulated (kwok: no operator image can be built here), and so are the GPU pools; "
             "etcd, NATS, the nodes, the pod network, the `helm test` pods and the Dynamo 1.6.1 frontend and mocker "
             "workers (pods on the kind workers, wired as the operator wires a DGD's: dataplane/in_cluster.py) are "
             "real. The load is etcd puts, JetStream publishes and streaming chat completions through the frontend.")


def record(overlay: str, key: str, value) -> Path:
    """Put `value` under `key` in the overlay's JSON (a dict merges into the dict there) and rewrite
    reports/ha.md."""
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    path = DIRECTORY / f"{overlay}.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    (DIRECTORY.parent / "ha.md").write_text(markdown())
    return path


def budgets() -> dict[str, dict]:
    """Per overlay, from its last HA run: the install's seconds to ready and each fault's recovery
    (seconds after the repair), for make bench's kind budgets."""
    found = {}
    for path in sorted(DIRECTORY.glob("*.json")):
        data = json.loads(path.read_text())
        found[path.stem] = {"install_s": data.get("shape", {}).get(INSTALL_KEY),
                            "recovery_s": {f["fault"]: f["recovery_s"] for f in data.get("faults", [])},
                            "written": path.stat().st_mtime}
    return found


def _cell(text) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def _writes(figures: dict) -> str:
    lost = "lost unknown (no read-back)" if figures["lost"] is None else f"{figures['lost']} lost"
    # Older reports' figures have no read_back_waited_s.
    waited = f", read-back refused for {figures['read_back_waited_s']} s (unavailable)" if figures.get("read_back_waited_s") else ""
    return (f"{figures['acked']}/{figures['sent']} acked, {figures['failed']} failed, **{lost}**, "
            f"longest gap {figures['longest_ack_gap_s']} s{waited}")


def _requests(figures: dict | None) -> str:
    if not figures:
        return "no frontend"
    failures = ("" if figures["first_failure_s"] is None else
                f", failures {figures['first_failure_s']}-{figures['last_failure_s']} s after the fault")
    return (f"{figures['ok']}/{figures['sent']} ok, **{figures['failed']} failed**{failures}, "
            f"longest gap {figures['longest_gap_s']} s")


def fault_rows(faults: list[dict]) -> list[str]:
    rows = ["| fault | nodes (members hit) | quorum kept | etcd puts | JetStream publishes | inference requests | "
            "recovery after repair | restarted or recreated (why) | verdict |", "|" + " --- |" * 9]
    for f in faults:
        hit = ", ".join(p for pods in f["members_hit"].values() for p in pods) or "none"
        kept = ", ".join(f"{c} {'yes' if ok else 'NO'}" for c, ok in f["quorum_kept"].items())
        restarted = "; ".join(f"{pod}: {r['why']}" for pod, r in sorted(f["restarted"].items())) or "none"
        verdict = "pass" if f["ok"] else "FAIL: " + "; ".join(f["problems"])
        if warnings := "; ".join(f"{pod}: {' / '.join(lines)}" for pods in f.get("member_warnings", {}).values()
                                 for pod, lines in sorted(pods.items()) if lines):
            verdict += f" (the members' last warnings: {warnings})"
        notes = (" " + "; ".join(f["notes"])) if f["notes"] else ""
        recovery = "-" if f["recovery_s"] is None else f"{f['recovery_s']} s"
        if f.get("serving_again_s") is not None:
            recovery += f" (serving again: {f['serving_again_s']} s)"
        rows.append("| " + " | ".join(_cell(c) for c in (
            f["fault"] + notes, f"{', '.join(f['nodes'])} ({hit})", kept, _writes(f["writes"]["etcd"]),
            _writes(f["writes"]["jetstream"]), _requests(f.get("requests")), recovery, restarted, verdict)) + " |")
    return rows


def markdown() -> str:
    lines = ["# High availability on the kind cluster", "", SIMULATED, "",
             "Lost = acknowledged by etcd (HTTP 200 with a revision) or JetStream (a PubAck), yet not read back "
             "after recovery. Recovery = seconds from the repair until every member is Ready, etcd lists all "
             "members from each, NATS routes are up and the R3 test stream has a leader and current followers."]
    for path in sorted(DIRECTORY.glob("*.json")):
        data = json.loads(path.read_text())
        lines += ["", f"## {path.stem}", ""]
        if shape := data.get("shape"):
            lines += [f"- {key}: {_cell(value)}" for key, value in sorted(shape.items())]
        if faults := data.get("faults"):
            lines += ["", *fault_rows(faults)]
        if serving := data.get("serving"):
            lines += ["", "Serving (the frontend and mocker workers):", ""]
            lines += [f"- {key}: {_cell(value)}" for key, value in sorted(serving.items())]
    return "\n".join(lines) + "\n"
