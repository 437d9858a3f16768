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


KIND_OVERLAY = yaml.safe_load((OVERLAYS / "local" / "kind-images.yaml").read_text())
# The components with no image buildable here: kind-images.yaml puts them on the simulated nodes.
SIMULATED_ON_KIND = ("dynamo-operator.controllerManager", "grove", "kai-scheduler", "lws", "inference-gateway.epp")


def test_kind_overlay_leaves_every_ha_setting_to_the_cloud_overlay():
    """Laid over aks-spot, eks-efa or gke, it must not change what the HA tests measure: it sets
    images, and where the simulated components go, nothing else (no replicas, spread or PDBs)."""
    from dynamo_harness.clusters.kind import _settings

    placement = {f"{c}.{key}" for c in SIMULATED_ON_KIND for key in ("nodeSelector.type", "tolerations")}
    for key in _settings(KIND_OVERLAY):
        assert key.split(".")[:2] in (["etcd", "image"], ["nats", "image"], ["tests", "image"]) \
            or key in placement | {"snapshot.tolerations"}, key


def test_kind_overlay_puts_each_simulated_component_on_the_simulated_nodes_and_nothing_else(render):
    from dynamo_harness.clusters.kind import SIMULATED_TAINT

    simulated_charts = {"dynamo-operator", "grove", "kai-scheduler", "lws", "inference-gateway"}
    values = {**ETCD_AND_NATS, "global.grove.install": True, "global.kai-scheduler.install": True,
              "global.lws.install": True, "inference-gateway.enabled": True,
              "inference-gateway.pool.dynamoGraphDeployment": "vllm-agg", "inference-gateway.route.enabled": False}
    for overlay in ("aks-spot", "eks-efa", "gke"):
        on_kwok: dict[str, bool] = {}
        for obj in render(overlay=[overlay, "local/kind-images"], values=values):
            if obj["kind"] in ("StatefulSet", "Deployment", "DaemonSet"):
                spec = obj["spec"]["template"]["spec"]
                chart = obj["metadata"]["labels"]["helm.sh/chart"].rsplit("-", 1)[0]
                on_kwok[f"{chart}/{obj['metadata']['name']}"] = (
                    spec.get("nodeSelector", {}).get("type") == "kwok"
                    and {**SIMULATED_TAINT, "operator": "Equal"} in spec.get("tolerations", []))
        expected = {name: name.split("/")[0] in simulated_charts for name in on_kwok}
        assert on_kwok == expected, overlay
        assert {name.split("/")[0] for name in on_kwok} >= simulated_charts | {"etcd", "nats"}, overlay


@pytest.mark.parametrize("overlay", ["aks-spot", "eks-efa", "gke"])
def test_kind_install_values_render_as_the_kind_overlay_file_does(render, overlay):
    """KindCluster.install_values() passes the file as --set-json keys (so a test's own keys merge
    under the same parents): the render must be the file's, label-named keys included."""
    from dynamo_harness.clusters.kind import KindCluster
    from dynamo_harness.helm_release import NO_STORAGE_MIGRATION

    # A given CA rather than one generated per render, so that two renders can be equal.
    fixed_cert = {"dynamo-operator.webhook.certManager.enabled": False,
                  "dynamo-operator.webhook.certificateSecret.external": True,
                  "dynamo-operator.webhook.certificateSecret.caBundle": "Q0EK"}
    assert render(overlay=overlay, values={**KindCluster().install_values(), **fixed_cert}) == \
        render(overlay=[overlay, "local/kind-images"], values={**NO_STORAGE_MIGRATION, **fixed_cert})


def test_kind_overlay_tolerates_exactly_the_taint_the_kind_provider_gives_its_simulated_nodes():
    from dynamo_harness.clusters.kind import SIMULATED_TAINT

    for component in ("dynamo-operator", "grove", "kai-scheduler", "lws"):
        settings = KIND_OVERLAY[component]
        settings = settings.get("controllerManager", settings)
        assert settings["tolerations"] == [{**SIMULATED_TAINT, "operator": "Equal"}], component
