"""What an installed release holds for its workers is what `--platform-values` reads offline: the
operator ConfigMap's workload-settings.yaml, found by the labels `dynamo-harness deploy` selects it
by, gives the same worker settings as the overlay file."""

import pytest

from dynamo_harness.deploy import worker_settings
from dynamo_harness.manifests import by_kind
from dynamo_harness.paths import OVERLAYS, overlay_names


def settings_config_map(manifests, release="dynamo-platform"):
    labels = worker_settings.release_labels(release)
    (found,) = [m for m in by_kind(manifests, "ConfigMap")
                if labels.items() <= m["metadata"].get("labels", {}).items()
                and worker_settings.WORKLOAD_SETTINGS in m.get("data", {})]
    return found


@pytest.mark.parametrize("overlay", ["aks-spot", "eks-efa", "gke"])
def test_the_release_holds_the_worker_settings_the_overlay_file_gives(render, overlay):
    text = settings_config_map(render(overlay))["data"][worker_settings.WORKLOAD_SETTINGS]
    from_release = worker_settings.from_workload_settings(text, "release")
    from_file = worker_settings.from_values_files([OVERLAYS / f"{overlay}.yaml"])
    assert from_release and (from_release.env, from_release.resources, from_release.node_selector, from_release.tolerations) == (
        from_file.env, from_file.resources, from_file.node_selector, from_file.tolerations)


@pytest.mark.parametrize("overlay", [o for o in overlay_names() if o not in ("aks-spot", "eks-efa", "gke")])
def test_overlays_without_worker_settings_give_none_either_way(render, overlay):
    settings = [m for m in by_kind(render(overlay), "ConfigMap") if worker_settings.WORKLOAD_SETTINGS in m.get("data", {})]
    assert not any(worker_settings.from_workload_settings(m["data"][worker_settings.WORKLOAD_SETTINGS], "release")
                   for m in settings)
    assert not worker_settings.from_values_files([OVERLAYS / f"{overlay}.yaml"])
