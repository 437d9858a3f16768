"""The docs describe what the tree has. docs/testing.md: each pytest marker declared in pyproject.toml
and each directory of tests under tests/ has a row saying where it lives, what it runs on, what it
proves and its target. README.md's Layout: every subchart, workflow, harness package and tests/ folder."""

import re
import tomllib

from dynamo_harness.paths import ROOT

TESTING_DOC = ROOT / "docs" / "testing.md"
# | `-m <marker>` | `tests/<layer>/` | runs on | proves | target |
ROW = re.compile(r"^\| `-m (\w+)` \| `tests/(\w+)/` \|(.*)\|\s*$", re.M)
ROW_TEMPLATE = "| `-m {0}` | `tests/{0}/` | <runs on> | <proves> | <target> |"


def declared_markers() -> set[str]:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    return {line.split(":", 1)[0].strip() for line in options["markers"]}


def layer_directories() -> set[str]:
    return {path.parent.name for path in (ROOT / "tests").glob("*/test_*.py")}


def documented_rows() -> dict[str, tuple[str, list[str]]]:
    """marker -> (its layer directory, the runs on / proves / target cells)."""
    return {marker: (layer, [cell.strip() for cell in rest.split("|")])
            for marker, layer, rest in ROW.findall(TESTING_DOC.read_text())}


def test_testing_doc_has_a_row_for_every_declared_marker_and_no_other():
    documented, declared = set(documented_rows()), declared_markers()
    missing = sorted(declared - documented)
    assert not missing, "describe each marker of pyproject.toml in the table of docs/testing.md: " + "; ".join(
        ROW_TEMPLATE.format(marker) for marker in missing)
    assert documented <= declared, f"docs/testing.md rows for undeclared markers: {sorted(documented - declared)}"


def test_testing_doc_describes_every_layer_directory_under_its_marker():
    rows = documented_rows()
    documented, layers = {layer for layer, _ in rows.values()}, layer_directories()
    assert documented == layers, (f"layers without a row in docs/testing.md: {sorted(layers - documented)}; "
                                  f"rows naming no directory of tests: {sorted(documented - layers)}")
    for marker, (layer, cells) in rows.items():
        # A layer's marker selects its directory (tests/conftest.py); any other marker is a subset of the
        # layer its row names (under_load: the install layer's runs under load on kind).
        assert layer == marker or marker not in layers, \
            f"-m {marker} selects tests/{marker}/ (tests/conftest.py), not tests/{layer}/"
        assert len(cells) == 3 and all(cells), f"-m {marker}: say what it runs on, what it proves and its target"


def readme_layout() -> dict[str, str]:
    """The README's Layout block: each path it names -> its description (continuation lines joined)."""
    block = (ROOT / "README.md").read_text().split("## Layout", 1)[1].split("```", 2)[1]
    entries: dict[str, str] = {}
    path = ""
    for line in block.strip().splitlines():
        if line.startswith(" "):
            entries[path] += " " + line.strip()
        else:
            path, _, description = line.partition(" ")
            entries[path] = description.strip()
    return entries


def names_word(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w./-]){re.escape(name)}(?![\w./-])", text) is not None


def test_readme_layout_names_every_subchart_workflow_harness_package_and_test_layer():
    layout = readme_layout()
    subcharts = [p.name for p in (ROOT / "charts" / "dynamo-platform" / "charts").iterdir() if p.is_dir()]
    workflows = [p.stem for p in (ROOT / ".github" / "workflows").glob("*.yaml")]
    folders = [f"dynamo_harness/{p.parent.name}/" for p in (ROOT / "dynamo_harness").glob("*/__init__.py")]
    folders += [f"tests/{p.name}/" for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name != "__pycache__"]
    missing = [f"subchart {name}" for name in sorted(subcharts)
               if not names_word(layout["charts/dynamo-platform/charts/"], name)]
    missing += [f"workflow {name}" for name in sorted(workflows) if not names_word(layout[".github/workflows/"], name)]
    missing += [folder for folder in sorted(folders) if folder not in layout]
    assert not missing, f"the Layout block of README.md omits: {', '.join(missing)}"
