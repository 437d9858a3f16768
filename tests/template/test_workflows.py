"""The GitHub workflows build the pinned Go tools with the Go they install: that Go must be at least
the version every hack/tools module declares, or the build fetches another toolchain (or fails)."""

import re

import yaml

from dynamo_harness.paths import ROOT


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_workflow_go_is_at_least_every_tool_module_go():
    declared = {path.parent.name: re.search(r"^go (\S+)$", path.read_text(), re.M).group(1)
                for path in (ROOT / "hack" / "tools").glob("*/go.mod")}
    installed = [step["with"]["go-version"]
                 for workflow in (ROOT / ".github" / "workflows").glob("*.yaml")
                 for job in yaml.safe_load(workflow.read_text())["jobs"].values()
                 for step in job["steps"] if step.get("uses", "").startswith("actions/setup-go@")]
    assert declared and installed
    newest = max(declared.values(), key=version)
    assert all(version(go) >= version(newest) for go in installed), (
        f"workflows install Go {sorted(set(installed))}; hack/tools declare up to {newest} ({declared})")
