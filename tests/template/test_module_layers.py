"""The harness keeps its rooms in layers: the import graph of dynamo_harness (read with ast, imports
inside functions included) has no cycle between rooms, and no room imports a higher layer than its
own. The layer order and the graph code live in tests/support/module_graph.py, which also prints the
figures (`python tests/support/module_graph.py`)."""

import subprocess
import sys

from support import module_graph

PACKAGE = module_graph.package_root()
GRAPH = module_graph.edges(PACKAGE)


def test_every_room_has_a_layer():
    assert module_graph.unplaced(PACKAGE) == [], "add the room to module_graph.LAYERS"


def test_no_import_cycle_between_rooms():
    assert module_graph.room_cycles(GRAPH) == []


def test_no_import_cycle_between_modules():
    assert module_graph.module_cycles(GRAPH) == []


def test_no_room_imports_a_higher_layer():
    assert [str(edge) for edge in module_graph.upward(GRAPH)] == []


def test_the_graph_sees_function_local_imports():
    # dynamo_harness.clusters imports its providers inside a function; the graph must see them
    assert any(edge.source == "dynamo_harness.clusters" and edge.target == "dynamo_harness.clusters.local"
               for edge in GRAPH)


def test_deploy_does_not_reach_into_clusters():
    # deploy and clusters share a layer; the real node's taint that deploy needs lives in kube
    assert [str(e) for e in GRAPH if module_graph.room(e.source) == "deploy" and module_graph.room(e.target) == "clusters"] == []


def test_the_packaged_conformance_cli_loads_no_data_plane_until_asked():
    # dynamo-conformance imports the embedded plane only for --embedded
    code = "import sys, dynamo_harness.conformance.cli; print(sorted(m for m in sys.modules if m.startswith('dynamo_harness.dataplane.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent).stdout
    assert out.strip() == "[]"
