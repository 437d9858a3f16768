"""values/local/: the local cluster's overlay for its real node (real-node.yaml) and the kind
cluster's, laid over a cloud overlay (kind-images.yaml)."""

import pytest
import yaml

from dynamo_harness import images
from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.paths import CHART, OVERLAYS

OVERLAY = OVERLAYS / "local" / "real-node.yaml"


@pytest.mark.parametrize("name", ["real-node", "kind-images"])
def test_local_overlay_points_every_image_at_a_locally_built_one(name):
    overlay = yaml.safe_load((OVERLAYS / "local" / f"{name}.yaml").read_text())
    built = {r.ref for r in images.RECIPES.values()}
    for component in ("etcd", "nats", "tests"):
        image = overlay[component]["image"]
        assert f"{image['registry']}/{image['repository']}:{image['tag']}" in built, component
        assert image["pullPolicy"] == "Never"
    assert (CHART / "values.yaml").read_text().count("localhost") == 0  # the defaults stay upstream's


def test_local_overlay_puts_etcd_nats_and_their_probes_on_the_real_node_and_the_operator_on_kwok(render):
    on_real_node = {}
    for obj in render(overlay="local/real-node", values=ETCD_AND_NATS):
        if obj["kind"] in ("StatefulSet", "Deployment", "Pod"):
            spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
            name = obj["metadata"]["name"].removeprefix("dynamo-platform-")
            on_real_node[name] = spec.get("nodeSelector", {}).get("dynamo-platform.test/pool") == "real-node"
    assert {n for n, real in on_real_node.items() if real} == {"etcd", "nats", "test-etcd", "test-nats", "test-operator"}
    assert on_real_node["dynamo-operator"] is False


def test_kind_overlay_leaves_every_ha_setting_to_the_cloud_overlay():
    """Laid over aks-spot, eks-efa or gke, it must not change what the HA tests measure."""
    overlay = yaml.safe_load((OVERLAYS / "local" / "kind-images.yaml").read_text())
    assert set(overlay) == {"etcd", "nats", "tests", "dynamo-operator"}
    assert {k: set(v) for k, v in overlay.items()} == {
        "etcd": {"image"}, "nats": {"image"}, "tests": {"image"},
        "dynamo-operator": {"controllerManager"}}
    assert set(overlay["dynamo-operator"]["controllerManager"]) == {"nodeSelector", "tolerations"}


def test_kind_overlay_tolerates_exactly_the_taint_the_kind_provider_gives_its_simulated_nodes():
    from dynamo_harness.clusters.kind import SIMULATED_TAINT

    overlay = yaml.safe_load((OVERLAYS / "local" / "kind-images.yaml").read_text())
    assert overlay["dynamo-operator"]["controllerManager"]["tolerations"] == [{**SIMULATED_TAINT, "operator": "Equal"}]
