"""A values file written for upstream's platform chart (1.3.0 to 1.6.0) works here: every upstream key
is accepted with upstream's meaning, wired to the same effect, or refused naming what to set instead
(tests/template/data/upstream_values.yaml holds the keys, their defaults and sources, and the class of
each), upstream's default values render as they are, and the keys users change most take effect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dynamo_harness.manifests import by_kind, load_all, named, operator_config, pod_specs
from dynamo_harness.paths import CHART

DATA = yaml.safe_load((Path(__file__).parent / "data" / "upstream_values.yaml").read_text())
SCHEMA = json.loads((CHART / "values.schema.json").read_text())
REFUSED = {e["key"]: e for e in yaml.safe_load((CHART / "files" / "refused-keys.yaml").read_text())}
RELEASE = "dynamo-platform"
RELEASES = sorted(DATA["defaults"])
UNACCEPTED = {"set-by": "a user"}


def leaves(tree: dict, prefix: str = ""):
    """(dotted key, default) of every leaf; an empty map or any list is a leaf."""
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from leaves(value, f"{path}.")
        else:
            yield path, value


UPSTREAM_KEYS = {key: default for release in RELEASES for key, default in leaves(DATA["defaults"][release])}


def entry_for(key: str) -> tuple[str, dict] | None:
    """The class entry that decides a key: the longest one that is the key or a prefix of it."""
    matches = [name for name in DATA["keys"] if key == name or key.startswith(f"{name}.")]
    return (max(matches, key=len), DATA["keys"][max(matches, key=len)]) if matches else None


def schema_node(key: str) -> dict | None:
    node = SCHEMA
    for part in key.split("."):
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node


def test_every_upstream_key_has_a_class():
    unclassified = [key for key in UPSTREAM_KEYS if entry_for(key) is None]
    assert not unclassified, f"classify these upstream keys in data/upstream_values.yaml: {unclassified}"
    assert {entry["class"] for entry in DATA["keys"].values()} <= {"accepted", "wired", "refused"}


def test_every_class_entry_decides_some_upstream_key():
    deciding = {entry_for(key)[0] for key in UPSTREAM_KEYS}
    assert set(DATA["keys"]) - deciding == set()


def keys_of(class_name: str) -> list[str]:
    return sorted(key for key in UPSTREAM_KEYS if entry_for(key)[1]["class"] == class_name)


def fits(node: dict, value) -> bool:
    """The JSON type of value is one the schema node allows (null where upstream leaves a key empty)."""
    kinds = node.get("type")
    if kinds is None:
        return True
    kinds = kinds if isinstance(kinds, list) else [kinds]
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}
    kind = names[type(value)]
    return kind in kinds or (kind == "integer" and "number" in kinds)


@pytest.mark.parametrize("key", keys_of("accepted"))
def test_an_accepted_key_is_this_chart_key_with_upstream_type(key):
    node = schema_node(key)
    assert node is not None and not node.get("deprecated"), f"{key} is not a key of this chart"
    assert fits(node, UPSTREAM_KEYS[key]), f"{key}: upstream's default {UPSTREAM_KEYS[key]!r} does not fit {node.get('type')}"


WIRED = sorted({name for key in keys_of("wired") for name in [entry_for(key)[0]]})


def without_generated_certificates(text: str) -> list[dict]:
    """The rendered objects less what the chart generates anew on every render (certificates, CA bundles)."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "caBundle"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    docs = load_all(text)
    return [strip({**doc, "data": None} if doc.get("type") == "kubernetes.io/tls" else doc) for doc in docs]


@pytest.mark.parametrize("name", WIRED)
def test_a_wired_key_renders_as_the_key_it_stands_for(helm, name):
    entry = DATA["keys"][name]
    assert without_generated_certificates(helm.template_text(values=entry["variant"])) == \
        without_generated_certificates(helm.template_text(values=entry["same_as"]))


def test_the_alias_files_and_the_table_agree():
    """Every alias the subcharts apply is classified wired here, under its full key."""
    for path in CHART.glob("charts/*/files/upstream-aliases.yaml"):
        chart = path.parent.parent.name
        for upstream in yaml.safe_load(path.read_text()):
            assert DATA["keys"].get(f"{chart}.{upstream}", {}).get("class") == "wired", f"{chart}.{upstream}"


REFUSED_ENTRIES = sorted({entry_for(key)[0] for key in keys_of("refused")})


@pytest.mark.parametrize("name", REFUSED_ENTRIES)
def test_a_refused_key_fails_naming_what_to_set_instead(render_error, name):
    entry = DATA["keys"][name]
    if "fails_with" in entry:
        message, instead = render_error(None, entry["fails_with"]), entry["instead"]
        named_key = name
    else:
        refusing = [key for key in REFUSED if name == key or name.startswith(f"{key}.")]
        assert refusing, f"{name} is classified refused but charts/dynamo-platform/files/refused-keys.yaml lacks it"
        named_key = max(refusing, key=len)
        message, instead = render_error(None, {name: UNACCEPTED}), REFUSED[named_key]["instead"]
    assert named_key in message and instead in message, message


def write_values(tmp_path: Path, values: dict) -> Path:
    path = tmp_path / "upstream-values.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


def render_file(helm, path: Path, *extra: str) -> list[dict]:
    text = helm.run("template", RELEASE, str(CHART), "--namespace", "dynamo-system", "--values", str(path), *extra)
    return load_all(text)


@pytest.mark.parametrize("release", RELEASES)
def test_upstream_default_values_render_as_they_are(helm, tmp_path, release):
    """A values file copied from upstream's chart, unchanged (nulls included), renders here."""
    manifests = render_file(helm, write_values(tmp_path, DATA["defaults"][release]))
    operator = named(manifests, "Deployment", f"{RELEASE}-dynamo-operator")
    assert operator["spec"]["template"]["spec"]["containers"][0]["image"].startswith("nvcr.io/nvidia/ai-dynamo/kubernetes-operator:")
    assert operator_config(manifests)["orchestrators"]["grove"]["terminationDelay"] == "4h"
    # 1.3 bundled NATS by default, 1.6 does not: each as its file says, with upstream's NATS settings.
    nats = [s for s in by_kind(manifests, "StatefulSet") if s["metadata"]["name"] == f"{RELEASE}-nats"]
    assert bool(nats) == DATA["defaults"][release]["global"]["nats"]["install"]
    for statefulset in nats:
        assert statefulset["spec"]["template"]["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false"
        # Upstream's repository "nats" is Docker Hub's library/nats.
        assert statefulset["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/nats:2.10.21-alpine"


def upstream_with(release: str, changes: dict) -> dict:
    """Upstream's default values of a release with dotted keys changed, as a user edits the copied file."""
    values = json.loads(json.dumps(DATA["defaults"][release]))
    for key, value in changes.items():
        node, parts = values, key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return values


def operator_env(manifests) -> dict:
    container = named(manifests, "Deployment", f"{RELEASE}-dynamo-operator")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value") for e in container["env"]}


def nats_statefulset(manifests):
    return named(manifests, "StatefulSet", f"{RELEASE}-nats")


# (id, changes to upstream's 1.6.0 defaults, check of the rendered manifests)
VARIANTS = [
    ("external-nats", {"dynamo-operator.natsAddr": "nats://nats.corp:4222"},
     lambda m: operator_config(m)["infrastructure"]["natsAddress"] == "nats://nats.corp:4222"),
    ("external-etcd-and-etcd-discovery", {"dynamo-operator.etcdAddr": "https://etcd.corp:2379", "dynamo-operator.discoveryBackend": "etcd"},
     lambda m: operator_config(m)["infrastructure"]["etcdAddress"] == "https://etcd.corp:2379" and operator_config(m)["discovery"]["backend"] == "etcd"),
    ("model-express", {"dynamo-operator.modelExpressURL": "http://model-express.models:8001"},
     lambda m: operator_config(m)["infrastructure"]["modelExpressURL"] == "http://model-express.models:8001"),
    ("operator-env", {"dynamo-operator.env": [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}]},
     lambda m: operator_env(m)["HTTPS_PROXY"] == "http://proxy:3128"),
    ("leader-election", {"dynamo-operator.controllerManager.leaderElection.id": "dynamo.nvidia.com",
                         "dynamo-operator.controllerManager.leaderElection.namespace": "kube-system"},
     lambda m: operator_config(m)["leaderElection"] == {"enabled": True, "id": "dynamo.nvidia.com", "namespace": "kube-system"}
     and named(m, "Role", f"{RELEASE}-dynamo-operator-leader-election")),
    ("ingress", {"dynamo-operator.dynamo.ingress.enabled": True, "dynamo-operator.dynamo.ingress.className": "nginx",
                 "dynamo-operator.dynamo.ingress.tlsSecretName": "frontend-tls", "dynamo-operator.dynamo.ingressHostSuffix": "dynamo.corp"},
     lambda m: operator_config(m)["ingress"] == {"controllerClassName": "nginx", "controllerTLSSecretName": "frontend-tls", "hostSuffix": "dynamo.corp"}),
    ("istio", {"dynamo-operator.dynamo.istio.enabled": True, "dynamo-operator.dynamo.istio.gateway": "istio-system/dynamo"},
     lambda m: operator_config(m)["ingress"] == {"virtualServiceGateway": "istio-system/dynamo"}),
    ("service-mesh", {"dynamo-operator.dynamo.serviceMesh.enabled": True, "dynamo-operator.dynamo.serviceMesh.istio.tlsMode": "ISTIO_MUTUAL"},
     lambda m: operator_config(m)["serviceMesh"] == {"enabled": True, "provider": "istio", "istio": {"tlsMode": "ISTIO_MUTUAL", "insecureSkipVerify": True}}),
    ("grove-termination-delay", {"dynamo-operator.dynamo.groveTerminationDelay": "15m"},
     lambda m: "terminationDelay" not in operator_config(m)["orchestrators"]["grove"]),
    ("no-crds-upgradeCRD-false", {"dynamo-operator.upgradeCRD": False},
     lambda m: not by_kind(m, "CustomResourceDefinition")),
    ("operator-tolerations", {"dynamo-operator.controllerManager.tolerations": [{"key": "system", "operator": "Exists"}]},
     lambda m: {"key": "system", "operator": "Exists"} in named(m, "Deployment", f"{RELEASE}-dynamo-operator")["spec"]["template"]["spec"]["tolerations"]),
    ("bundled-nats-cluster-jetstream", {"global.nats.install": True, "nats.config.cluster.enabled": True,
                                        "nats.config.jetstream.fileStore.pvc.size": "50Gi",
                                        "nats.config.jetstream.fileStore.pvc.storageClassName": "gp3"},
     lambda m: nats_statefulset(m)["spec"]["replicas"] == 3
     and nats_statefulset(m)["spec"]["volumeClaimTemplates"][0]["spec"] | {} == {
         "accessModes": ["ReadWriteOnce"], "storageClassName": "gp3", "resources": {"requests": {"storage": "50Gi"}}}),
    ("bundled-nats-tolerations", {"global.nats.install": True, "nats.podTemplate.merge.spec.tolerations": [{"key": "spot", "operator": "Exists"}]},
     lambda m: {"key": "spot", "operator": "Exists"} in nats_statefulset(m)["spec"]["template"]["spec"]["tolerations"]),
    ("bundled-etcd-ha", {"global.etcd.install": True, "etcd.image": {}, "etcd.replicaCount": 3,
                         "etcd.persistence.size": "20Gi", "etcd.persistence.storageClass": "gp3"},
     lambda m: named(m, "StatefulSet", f"{RELEASE}-etcd")["spec"]["replicas"] == 3
     and named(m, "StatefulSet", f"{RELEASE}-etcd")["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "gp3"),
    ("kai-tolerations", {"global.kai-scheduler.install": True, "kai-scheduler.global.tolerations": [{"key": "gpu", "operator": "Exists"}]},
     lambda m: all({"key": "gpu", "operator": "Exists"} in p.spec["tolerations"] for p in pod_specs(m) if p.owner["metadata"]["name"].startswith(f"{RELEASE}-kai-"))),
    ("grove-tolerations", {"global.grove.install": True, "grove.tolerations": [{"key": "system", "operator": "Exists"}]},
     lambda m: {"key": "system", "operator": "Exists"} in named(m, "Deployment", f"{RELEASE}-grove-operator")["spec"]["template"]["spec"]["tolerations"]),
]


@pytest.mark.parametrize(("changes", "check"), [v[1:] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_a_commonly_changed_upstream_key_takes_effect(helm, tmp_path, changes, check):
    values = upstream_with("1.6.0", changes)
    if changes.get("etcd.image") == {}:  # the user removed bitnami's image, as the refusal tells them
        values["etcd"].pop("image")
    assert check(render_file(helm, write_values(tmp_path, values)))


def test_upstream_bitnami_etcd_image_is_refused_once_etcd_is_bundled(helm, tmp_path):
    from dynamo_harness.helm import HelmError

    with pytest.raises(HelmError, match="Remove etcd.image.repository and etcd.image.tag"):
        render_file(helm, write_values(tmp_path, upstream_with("1.6.0", {"global.etcd.install": True})))


def test_a_key_set_under_both_names_to_different_values_fails_naming_both(render_error):
    message = render_error(None, {"dynamo-operator.natsAddr": "nats://a:4222", "dynamo-operator.dynamo.nats.url": "nats://b:4222"})
    assert "dynamo-operator.natsAddr (upstream's name for dynamo-operator.dynamo.nats.url)" in message


def test_a_values_file_layered_over_upstreams_defaults_keeps_its_settings(helm, tmp_path):
    """Upstream's defaults leave NATS's tolerations empty; a later file that sets this chart's key
    (as a user's placement overlay does) is what the NATS pods get, not a conflict."""
    toleration = {"key": "dedicated", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}
    later = tmp_path / "placement.yaml"
    later.write_text(yaml.safe_dump({"nats": {"tolerations": [toleration]}}))
    manifests = render_file(helm, write_values(tmp_path, DATA["defaults"]["1.3.0"]), "--values", str(later))
    assert nats_statefulset(manifests)["spec"]["template"]["spec"]["tolerations"] == [toleration]
