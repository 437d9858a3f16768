"""dynamo-harness: the command line of the harness.

`up` is the product's main job on this machine. Today it proves the chart offline: every
overlay renders, the default overlay passes a dry-run install, and the documented DGD examples
validate against the CRDs; it writes a report and prints its path. The local cluster, the
data plane and the conformance probes join `up` as they land.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import yaml

from .crd_schema import validation_errors
from .helm import Helm, HelmError, values_args
from .manifests import by_kind
from .paths import CHART, EXAMPLES, ROOT, overlay_names

REPORTS = ROOT / "reports"
DEFAULT_OVERLAY = "kind"


def up(overlay: str) -> int:
    helm = Helm()
    lines = [f"# dynamo-platform: `make up` report\n\nOverlay: `{overlay}`\n", "| check | result | detail |", "| --- | --- | --- |"]
    failed = False

    def record(check: str, ok: bool, detail: str) -> None:
        nonlocal failed
        failed |= not ok
        lines.append(f"| {check} | {'pass' if ok else 'FAIL'} | {detail} |")
        print(f"  {'pass' if ok else 'FAIL'}  {check}: {detail}", flush=True)

    print(f"dynamo-harness up ({overlay})", flush=True)
    for name in overlay_names():
        started = time.monotonic()
        try:
            count = len(helm.template(overlay=name))
            record(f"render {name}", True, f"{count} objects in {time.monotonic() - started:.2f}s")
        except HelmError as err:
            record(f"render {name}", False, err.stderr.strip().splitlines()[0])
    try:
        out = helm.run("install", "dynamo-platform", str(CHART), "--namespace", "dynamo-system",
                       "--dry-run=client", *values_args(overlay, None))
        record("helm install --dry-run", "Dry run complete" in out, "client-side, default overlay")
    except HelmError as err:
        record("helm install --dry-run", False, err.stderr.strip().splitlines()[0])
    crds = {c["spec"]["names"]["kind"]: c for c in by_kind(helm.template(include_crds=True), "CustomResourceDefinition")}
    for example in sorted(EXAMPLES.glob("*.yaml")):
        obj = yaml.safe_load(example.read_text())
        errors = validation_errors(crds[obj["kind"]], obj)
        record(f"example {example.stem}", not errors, "; ".join(errors) or "valid against the CRD schema")
    lines.append("\nNot yet part of `up`: the local cluster install, the embedded data plane and the conformance probes.\n")
    REPORTS.mkdir(exist_ok=True)
    report = REPORTS / "up.md"
    report.write_text("\n".join(lines))
    print(f"report: {report}")
    return 1 if failed else 0


def down() -> int:
    shutil.rmtree(REPORTS, ignore_errors=True)
    print("removed reports/")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dynamo-harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="bring the local platform up and check it")
    up_parser.add_argument("--overlay", default=DEFAULT_OVERLAY, choices=overlay_names())
    sub.add_parser("down", help="undo up")
    args = parser.parse_args(argv)
    if args.command == "up":
        return up(args.overlay)
    return down()


if __name__ == "__main__":
    sys.exit(main())
