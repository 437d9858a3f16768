"""docs/testing.md tells the truth about the markers: each layer's `-m` selects the number of tests it says."""

import re

from dynamo_harness.paths import ROOT

ROW = re.compile(r"^\| `-m (\w+)` \| (\d+) \|", re.M)


def test_testing_doc_lists_every_layer_marker_with_its_test_count(layer_counts):
    documented = {marker: int(n) for marker, n in ROW.findall((ROOT / "docs" / "testing.md").read_text())}
    assert documented == layer_counts, "update the table in docs/testing.md: " + ", ".join(
        f"-m {k}: {v}" for k, v in layer_counts.items())
