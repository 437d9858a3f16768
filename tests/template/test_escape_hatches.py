"""Escape hatches: every component with pods takes podLabels, podAnnotations, extraEnv,
extraVolumes and extraVolumeMounts the same way (dynamo-common's helpers), global.commonLabels
reaches every object, and the checkpoint PVC has one name."""

from dataclasses import dataclass

import pytest
import yaml

from dynamo_harness.helm import everything_on
from dynamo_harness.manifests import ident, named, pod_specs, workload_settings
from dynamo_harness.paths import CHART

RELEASE = "dynamo-platform"
# Every component and hook on, etcd and NATS included (off by default since Dynamo 1.4).
ALL_ON = {**everything_on(), "global.etcd.install": True, "global.nats.install": True}
EXTRAS = {
    "podLabels": {"team": "ml-platform"},
    "podAnnotations": {"example.com/owner": "ml-platform"},
    "extraEnv": [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}],
    "extraVolumes": [{"name": "corp-ca", "configMap": {"name": "corp-ca"}}],
    "extraVolumeMounts": [{"name": "corp-ca", "mountPath": "/etc/corp-ca", "readOnly": True}],
}


@dataclass(frozen=True)
class Component:
    key: str  # values path the extras go under
    chart: str  # app.kubernetes.io/name of its pods
    pods: frozenset[str]  # app.kubernetes.io/component of its pods
    container: str | None  # main container that takes extraEnv and extraVolumeMounts (None: its own name)


COMPONENTS = {
    "operator": Component("dynamo-operator.controllerManager", "dynamo-operator", frozenset({"manager"}), "manager"),
    "storage-migration-job": Component("dynamo-operator.storageMigration", "dynamo-operator", frozenset({"storage-migration"}), "migrate"),
    "etcd": Component("etcd", "etcd", frozenset({"etcd"}), "etcd"),
    "nats": Component("nats", "nats", frozenset({"nats"}), "nats"),
    "grove": Component("grove", "grove", frozenset({"operator"}), "grove-operator"),
    "kai-scheduler": Component("kai-scheduler", "kai-scheduler", frozenset({"scheduler", "binder", "podgrouper"}), None),
    "snapshot": Component("snapshot", "snapshot", frozenset({"snapshot-agent"}), "agent"),
    "lws": Component("lws", "lws", frozenset({"controller"}), "manager"),
    "inference-gateway-epp": Component("inference-gateway.epp", "inference-gateway", frozenset({"epp"}), "epp"),
    "helm-test-pods": Component("tests", "dynamo-platform", frozenset({"test-etcd", "test-nats", "test-operator"}), "probe"),
}


def pod_metadata(owner):
    return owner["metadata"] if owner["kind"] == "Pod" else owner["spec"]["template"]["metadata"]


def pods_of(manifests, component: Component):
    found = []
    for pod in pod_specs(manifests):
        labels = pod_metadata(pod.owner)["labels"]
        if labels["app.kubernetes.io/name"] == component.chart and labels["app.kubernetes.io/component"] in component.pods:
            found.append(pod)
    return found


def with_extras(key: str) -> dict:
    return {**ALL_ON, **{f"{key}.{name}": value for name, value in EXTRAS.items()}}


def carries_extras(pod, component: Component) -> list[str]:
    """What of EXTRAS the pod lacks (empty: it carries all of them)."""
    metadata, missing = pod_metadata(pod.owner), []
    if metadata["labels"].get("team") != "ml-platform":
        missing.append("podLabels")
    if metadata.get("annotations", {}).get("example.com/owner") != "ml-platform":
        missing.append("podAnnotations")
    if EXTRAS["extraVolumes"][0] not in pod.spec.get("volumes", []):
        missing.append("extraVolumes")
    (main,) = [c for c in pod.spec["containers"] if c["name"] == (component.container or metadata["labels"]["app.kubernetes.io/component"])]
    if main.get("env", [])[-1:] != EXTRAS["extraEnv"]:
        missing.append("extraEnv (last of the main container's env)")
    if EXTRAS["extraVolumeMounts"][0] not in main.get("volumeMounts", []):
        missing.append("extraVolumeMounts")
    return missing


@pytest.mark.parametrize("name", COMPONENTS)
def test_escape_hatches_reach_every_pod_of_the_component_and_no_other(render, name):
    component = COMPONENTS[name]
    manifests = render(values=with_extras(component.key))
    pods = pods_of(manifests, component)
    assert {pod_metadata(p.owner)["labels"]["app.kubernetes.io/component"] for p in pods} == set(component.pods)
    for pod in pods:
        assert not carries_extras(pod, component), f"{pod.name} lacks {carries_extras(pod, component)}"
    others = [p for p in pod_specs(manifests) if p not in pods and p.owner["metadata"]["name"] != f"{RELEASE}-etcd-enable-auth"]
    leaked = [p.name for p in others if "team" in pod_metadata(p.owner)["labels"] or EXTRAS["extraVolumes"][0] in p.spec.get("volumes", [])]
    assert not leaked, f"{component.key} extras reached other components: {leaked}"


def test_the_etcd_auth_job_carries_the_etcd_pod_labels_and_annotations(render):
    job = named(render(values=with_extras("etcd")), "Job", f"{RELEASE}-etcd-enable-auth")
    metadata = job["spec"]["template"]["metadata"]
    assert metadata["labels"]["team"] == "ml-platform"
    assert metadata["annotations"]["example.com/owner"] == "ml-platform"


def test_the_chart_own_annotations_stay_beside_pod_annotations(render):
    operator = named(render(values=with_extras("dynamo-operator.controllerManager")), "Deployment", f"{RELEASE}-dynamo-operator")
    assert set(operator["spec"]["template"]["metadata"]["annotations"]) == {"checksum/config", "example.com/owner"}


def crds_shipped_as_files() -> set[str]:
    """CRDs under a subchart's crds/: Helm applies them verbatim, so no template label reaches them."""
    return {yaml.safe_load(path.read_text())["metadata"]["name"] for path in CHART.glob("charts/*/crds/*.yaml")}


def test_common_labels_reach_every_rendered_object(render, optional_apis):
    manifests = render(values={**ALL_ON, "global.commonLabels": {"cost-center": "ml-42"}}, api_versions=optional_apis, include_crds=True)
    unlabelled = {m["metadata"]["name"] for m in manifests if m["metadata"].get("labels", {}).get("cost-center") != "ml-42"}
    assert unlabelled == crds_shipped_as_files()
    assert any(m["kind"] == "CustomResourceDefinition" and m["metadata"]["name"].endswith(".nvidia.com") and m["metadata"]["labels"]["cost-center"] == "ml-42"
               for m in manifests)


BAD = [
    ("pod-label-replaces-a-selector-label", {"etcd.podLabels": {"app.kubernetes.io/component": "x"}},
     ["etcd.podLabels sets the label app.kubernetes.io/component", "choose another label key"]),
    ("common-label-replaces-a-standard-label", {"global.commonLabels": {"app.kubernetes.io/part-of": "x"}},
     ["global.commonLabels sets the label app.kubernetes.io/part-of"]),
    ("pod-annotation-replaces-the-config-checksum", {"dynamo-operator.controllerManager.podAnnotations": {"checksum/config": "x"}},
     ["dynamo-operator.controllerManager.podAnnotations sets checksum/config"]),
    ("extra-volume-reuses-a-chart-volume", {"dynamo-operator.controllerManager.extraVolumes": [{"name": "config", "emptyDir": {}}]},
     ["dynamo-operator.controllerManager.extraVolumes: a volume named config exists already"]),
    ("mount-of-a-missing-volume", {"tests.extraVolumeMounts": [{"name": "nowhere", "mountPath": "/x"}]},
     ["tests.extraVolumeMounts mounts nowhere, which is no volume of these pods", "tests.extraVolumes"]),
    ("env-item-typo", {"grove.extraEnv": [{"name": "A", "valuFrom": {}}]}, ["/grove/extraEnv/0", "'valuFrom' not allowed"]),
    ("env-value-not-a-string", {"lws.extraEnv": [{"name": "A", "value": 1}]}, ["/lws/extraEnv/0/value", "want string"]),
    ("volume-source-typo", {"nats.extraVolumes": [{"name": "a", "configmap": {"name": "x"}}]}, ["/nats/extraVolumes/0", "'configmap' not allowed"]),
    ("volume-with-two-sources", {"nats.extraVolumes": [{"name": "a", "emptyDir": {}, "secret": {"secretName": "x"}}]},
     ["/nats/extraVolumes/0", "maxProperties"]),
    ("mount-without-path", {"snapshot.extraVolumeMounts": [{"name": "a"}]}, ["/snapshot/extraVolumeMounts/0", "mountPath"]),
    ("pod-label-value-too-long", {"kai-scheduler.podLabels": {"a": "x" * 64}}, ["/kai-scheduler/podLabels/a"]),
    ("common-label-bad-key", {"global.commonLabels": {"has space": "x"}}, ["invalid propertyName 'has space'"]),
]


@pytest.mark.parametrize(("values", "fragments"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_escape_hatch_values_fail_naming_the_key(render_error, values, fragments):
    message = render_error(None, {**ALL_ON, **values})
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


CHECKPOINT = {"snapshot.enabled": True, "dynamo-operator.checkpoint.enabled": True}


def checkpoint_pvc_names(manifests) -> dict[str, str]:
    (pvc,) = [m for m in manifests if m["kind"] == "PersistentVolumeClaim"]
    daemonset = named(manifests, "DaemonSet", f"{RELEASE}-snapshot-agent")
    (claim,) = [v["persistentVolumeClaim"]["claimName"] for v in daemonset["spec"]["template"]["spec"]["volumes"] if "persistentVolumeClaim" in v]
    return {"operator": workload_settings(manifests)["checkpoint"]["storage"]["pvc"]["pvcName"], "pvc": pvc["metadata"]["name"], "agent mount": claim}


def test_one_key_names_the_checkpoint_pvc_for_operator_and_agent(render):
    assert set(checkpoint_pvc_names(render(values=CHECKPOINT)).values()) == {"snapshot-pvc"}
    assert set(checkpoint_pvc_names(render(values={**CHECKPOINT, "global.checkpoint.pvcName": "ckpt"})).values()) == {"ckpt"}


def test_upstream_checkpoint_pvc_keys_still_work_when_they_agree(render):
    agreeing = {**CHECKPOINT, "snapshot.storage.pvc.name": "ckpt", "dynamo-operator.checkpoint.storage.pvc.pvcName": "ckpt"}
    assert set(checkpoint_pvc_names(render(values=agreeing)).values()) == {"ckpt"}


@pytest.mark.parametrize("key", ["snapshot.storage.pvc.name", "dynamo-operator.checkpoint.storage.pvc.pvcName"])
def test_a_checkpoint_pvc_name_set_on_one_side_only_fails_naming_both_keys(render_error, key):
    message = render_error(None, {**CHECKPOINT, key: "other"})
    for fragment in ("snapshot.storage.pvc.name", "dynamo-operator.checkpoint.storage.pvc.pvcName", "global.checkpoint.pvcName"):
        assert fragment in message


def test_the_operator_alone_may_name_its_own_checkpoint_pvc(render):
    """Without the agent in this release (one per workload namespace, upstream's agentMount mode) nothing must agree."""
    settings = workload_settings(render(values={"dynamo-operator.checkpoint.enabled": True, "dynamo-operator.checkpoint.storage.pvc.pvcName": "team-ckpt"}))
    assert settings["checkpoint"]["storage"]["pvc"]["pvcName"] == "team-ckpt"


def test_escape_hatch_components_cover_every_pod_the_chart_renders(render):
    """A new workload template must join COMPONENTS (the etcd auth job is etcd's, checked above)."""
    covered = {ident(p.owner) for c in COMPONENTS.values() for p in pods_of(render(values=ALL_ON), c)}
    everything = {p.name for p in pod_specs(render(values=ALL_ON))}
    assert everything - covered == {f"Job/{RELEASE}-etcd-enable-auth"}
