"""The harness keeps its rooms in layers: the import graph of dynamo_harness (read with ast, imports
inside functions included) has no cycle between rooms, and no room imports a higher layer than its
own. The layer order and the graph code live in tests/support/module_graph.py, which also prints the
figures (`python tests/support/module_graph.py`)."""

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
