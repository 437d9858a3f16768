"""Every overlay renders, lints and dry-run installs; every object is well formed."""

import re

import yaml

from dynamo_harness.helm import everything_on
from dynamo_harness.manifests import by_kind, ident, images, load_all, pod_specs
from dynamo_harness.paths import overlay_names

LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
)


def test_overlays_exist_for_every_target():
    assert {"kind", "aks-spot", "eks-efa", "gke", "namespace-restricted"} <= set(overlay_names())


def test_overlay_renders_and_lints_strict(helm, render, overlay):
    assert render(overlay), "rendered nothing"
    helm.lint(overlay=overlay)


def test_a_render_parses_to_the_same_objects_with_libyaml_as_with_pyyamls_own_parser(helm):
    """Every test reads renders through manifests.load_all (libyaml, ten times faster): it must see
    exactly what yaml.safe_load_all sees, with every component on."""
    text = helm.template_text(values=everything_on())
    assert load_all(text) == [doc for doc in yaml.safe_load_all(text) if doc]


def test_overlay_dry_run_install_succeeds(dry_run_install, overlay):
    assert "Dry run complete" in dry_run_install(overlay)


def test_every_object_carries_the_standard_labels(render, overlay):
    missing = [
        f"{ident(m)} lacks {label}"
        for m in render(overlay)
        for label in LABELS
        if label not in m["metadata"].get("labels", {})
    ]
    assert not missing, "\n".join(missing)


def test_every_namespaced_object_names_its_namespace(render, overlay):
    cluster_scoped = {"ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration",
                      "MutatingWebhookConfiguration", "Queue", "CustomResourceDefinition"}
    unnamespaced = [ident(m) for m in render(overlay)
                    if m["kind"] not in cluster_scoped and m["metadata"].get("namespace") != "dynamo-system"]
    assert not unnamespaced


def test_selectors_use_only_immutable_labels(render, overlay):
    allowed = {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"}
    for workload in by_kind(render(overlay), "Deployment", "StatefulSet", "DaemonSet"):
        assert set(workload["spec"]["selector"]["matchLabels"]) == allowed, ident(workload)


def test_every_image_is_fully_qualified_and_pinned(render, overlay):
    for image in images(render(overlay)):
        assert re.fullmatch(r"[a-z0-9.-]+\.[a-z]+/[\w./-]+:[\w.-]+(@sha256:[a-f0-9]{64})?", image), image
        assert not image.endswith(":latest"), image


def test_every_container_has_requests_and_a_memory_limit(render, overlay):
    for pod in pod_specs(render(overlay)):
        for container in pod.containers():
            resources = container.get("resources", {})
            assert resources.get("requests"), f"{pod.name}/{container['name']} has no requests"
            assert "memory" in resources.get("limits", {}), f"{pod.name}/{container['name']} has no memory limit"
