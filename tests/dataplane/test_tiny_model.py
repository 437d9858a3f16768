"""The data plane runs dynamo_harness/tiny_model.py as a script with the Dynamo venv's Python, which
puts the package folder first on sys.path: no module there may shadow the standard library."""

import sys

from dynamo_harness.paths import ROOT


def test_no_module_beside_tiny_model_shadows_the_standard_library():
    package = ROOT / "dynamo_harness"
    beside = {p.stem for p in package.glob("*.py")} | {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    assert not beside & sys.stdlib_module_names
