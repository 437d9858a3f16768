"""What a release publishes about the chart: the SBOM and the Artifact Hub annotations list every
image the chart can deploy, taken from the renders with every component on."""

import yaml

from dynamo_harness.helm import Helm
from dynamo_harness.manifests import images
from dynamo_harness.paths import CHART, overlay_names
from dynamo_harness.helm import EVERYTHING_ON
from dynamo_harness.publish import changelog_changes, chart_images, chart_version, container_component, sbom, sbom_images

CHANGE_KINDS = {"added", "changed", "deprecated", "removed", "fixed", "security"}  # Artifact Hub's list


def annotations() -> dict:
    return yaml.safe_load((CHART / "Chart.yaml").read_text())["annotations"]


def test_sbom_lists_every_image_of_every_render(helm: Helm, render, everything_on):
    rendered = {ref for overlay in [None, *overlay_names()]
                for ref in images(render(overlay=overlay, values=everything_on(overlay)))}
    document = sbom(chart_images(helm), chart_version())
    assert sbom_images(document) == sorted(rendered)


def test_sbom_is_cyclonedx_with_the_chart_depending_on_each_image(helm: Helm):
    document = sbom(chart_images(helm), chart_version())
    assert (document["bomFormat"], document["specVersion"]) == ("CycloneDX", "1.5")
    (dependency,) = document["dependencies"]
    assert dependency["ref"] == document["metadata"]["component"]["bom-ref"]
    assert dependency["dependsOn"] == [c["bom-ref"] for c in document["components"]]


def test_image_purl_carries_repository_tag_and_digest():
    component = container_component("gcr.io/etcd-development/etcd:v3.5.21@sha256:" + "a" * 64)
    assert component["purl"] == ("pkg:oci/etcd@sha256%3A" + "a" * 64
                                 + "?repository_url=gcr.io/etcd-development/etcd&tag=v3.5.21")
    assert container_component("registry:5000/team/img")["purl"] == "pkg:oci/img?repository_url=registry:5000/team/img"


def test_artifacthub_images_annotation_is_every_image_the_chart_deploys(helm: Helm):
    listed = sorted(entry["image"] for entry in yaml.safe_load(annotations()["artifacthub.io/images"]))
    assert listed == chart_images(helm), "update artifacthub.io/images in Chart.yaml to `python -m dynamo_harness.publish images`"


def test_artifacthub_changes_and_license_are_set():
    changes = yaml.safe_load(annotations()["artifacthub.io/changes"])
    assert changes and all(c["kind"] in CHANGE_KINDS and c["description"] for c in changes)
    assert changes == changelog_changes(chart_version()), \
        "artifacthub.io/changes must be CHANGELOG.md's entries: paste `python -m dynamo_harness.publish changes`"
    assert annotations()["artifacthub.io/license"] == "Apache-2.0"


def test_every_component_values_render_every_optional_subchart(render):
    charts = {m["metadata"]["labels"].get("helm.sh/chart", "").rsplit("-", 1)[0]
              for m in render(values=EVERYTHING_ON) if m.get("metadata", {}).get("labels")}
    assert {"grove", "kai-scheduler", "snapshot", "etcd", "nats", "dynamo-operator"} <= charts
