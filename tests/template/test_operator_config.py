"""The operator Deployment speaks upstream's command line and configuration file.

Upstream's operator 1.6 parses only its own flags (--config, --operator-version, --operator-image,
--operator-image-pull-policy, --dgdr-default-image) and zap's; any other flag stops it with "flag
provided but not defined". Everything else comes from an OperatorConfiguration file. tests/template/data/upstream_operator.yaml lists both, with the
upstream commits they were read from; every render below must stay inside them.
"""

from pathlib import Path

import pytest
import yaml

from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.manifests import named, operator_config, workload_settings

RELEASE = "dynamo-platform"
UPSTREAM = yaml.safe_load((Path(__file__).parent / "data" / "upstream_operator.yaml").read_text())
FLAGS = set(UPSTREAM["flags"]["operator"]) | set(UPSTREAM["flags"]["zap"])
FIELDS = set(UPSTREAM["config"]["fields"])
SEMVER = r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$"

# Value sets that reach every branch of the config template.
VALUE_SETS = {
    "defaults": {},  # no etcd, no NATS: Kubernetes discovery, TCP requests, ZMQ events
    "bundled-etcd-and-nats": ETCD_AND_NATS,
    "external-etcd-discovery": {
        "global.etcd.install": False, "global.nats.install": False,
        "dynamo-operator.dynamo.discoveryBackend": "etcd",
        "dynamo-operator.dynamo.etcd.endpoints": "https://etcd-a:2379,https://etcd-b:2379",
        "dynamo-operator.dynamo.nats.url": "tls://nats.corp:4222",
    },
    "namespace-restricted": {"dynamo-operator.namespaceRestriction.enabled": True,
                             "dynamo-operator.namespaceRestriction.targetNamespace": "team-a"},
    "orchestrators-and-checkpoints": {
        "global.grove.install": True, "global.kai-scheduler.install": True, "global.lws.install": True,
        "snapshot.enabled": True, "dynamo-operator.checkpoint.enabled": True,
        "dynamo-operator.checkpoint.storage.pvc.create": True,
        "dynamo-operator.checkpoint.storage.pvc.storageClassName": "efs-sc",
        "dynamo-operator.dynamo.metrics.prometheusEndpoint": "http://prom.monitoring:9090",
    },
    "single-manager-with-everything": {
        **ETCD_AND_NATS,
        "dynamo-operator.controllerManager.leaderElection.enabled": False,
        "dynamo-operator.dynamo.hfTokenSecret": "hf-token-secret",
        "global.etcd.auth.enabled": True, "global.nats.tls.enabled": True,
        "global.imagePullSecrets": [{"name": "mirror-creds"}],
    },
}


def field_paths(tree, prefix=""):
    """Leaf paths of a mapping (lists and scalars are leaves), dotted like the data file."""
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from field_paths(value, f"{path}.")
        else:
            yield path


def unknown_fields(config):
    body = {k: v for k, v in config.items() if k not in ("apiVersion", "kind")}
    return sorted(set(field_paths(body)) - FIELDS)


def manager(manifests):
    (container,) = named(manifests, "Deployment", f"{RELEASE}-dynamo-operator")["spec"]["template"]["spec"]["containers"]
    return container


def flag_name(arg):
    assert arg.startswith("--"), arg
    return arg[2:].split("=", 1)[0]


@pytest.fixture(scope="module", params=[*VALUE_SETS, *(f"overlay:{o}" for o in ("kind", "aks-spot", "eks-efa", "gke"))])
def rendered(request, render):
    name = request.param
    if name.startswith("overlay:"):
        return render(name.removeprefix("overlay:"))
    return render(values=VALUE_SETS[name])


def test_every_flag_the_chart_passes_is_defined_by_upstreams_operator(rendered):
    args = manager(rendered)["args"]
    assert [flag_name(a) for a in args if flag_name(a) not in FLAGS] == []


def test_the_chart_passes_exactly_upstreams_chart_args(rendered):
    args = manager(rendered)["args"]
    expected = [a.split("=")[0] for a in UPSTREAM["chart_args"]]
    assert [a.split("=")[0] for a in args] == expected
    assert "--config=/etc/dynamo-operator/config.yaml" in args


def test_operator_image_flags_name_the_managers_own_image(render):
    container = manager(render(values={"dynamo-operator.controllerManager.manager.image.pullPolicy": "Always"}))
    assert f"--operator-image={container['image']}" in container["args"]
    assert "--operator-image-pull-policy=Always" in container["args"]


def test_env_is_upstreams(render):
    env = {e["name"]: e for e in manager(render())["env"]}
    for name, field in UPSTREAM["env"]["downward_api"].items():
        assert env[name]["valueFrom"]["fieldRef"]["fieldPath"] == field
    for name, value in UPSTREAM["env"]["value"].items():
        assert env[name]["value"] == value


def test_operator_version_is_semver_from_the_image(render):
    (version,) = [a.split("=", 1)[1] for a in manager(render())["args"] if a.startswith("--operator-version=")]
    assert version == "1.6.1" and manager(render())["image"].endswith(f":{version}")
    pinned = manager(render(values={"dynamo-operator.controllerManager.manager.image.tag": "v1.6.2"}))["args"]
    assert "--operator-version=1.6.2" in pinned
    # A tag that is no version (a mirror's "latest") cannot be the operator's semver: appVersion is.
    floating = manager(render(values={"dynamo-operator.controllerManager.manager.image.tag": "latest"}))["args"]
    assert "--operator-version=1.6.1" in floating


def test_config_is_an_operator_configuration_of_known_fields_only(rendered):
    config = operator_config(rendered)
    assert (config["apiVersion"], config["kind"]) == (UPSTREAM["config"]["apiVersion"], UPSTREAM["config"]["kind"])
    assert unknown_fields(config) == []


def test_fields_upstreams_validation_requires_are_rendered(rendered):
    config = operator_config(rendered)
    paths = set(field_paths(config))
    required = UPSTREAM["config"]["required"]
    expected = set(required["always"])
    if "restricted" not in config.get("namespace", {}):
        expected |= set(required["cluster_wide"])
    if config["leaderElection"]["enabled"]:
        expected |= set(required["leader_election"])
    assert sorted(expected - paths) == []
    assert all(config_value(config, path) not in ("", None) for path in expected)


def config_value(config, path):
    for key in path.split("."):
        config = config[key]
    return config


def test_a_made_up_field_is_caught():
    """The field check itself: a key upstream does not define (or one at the wrong depth) is reported."""
    config = {"apiVersion": "x", "kind": "y", "server": {"metrics": {"port": 1, "tls": True}}, "hfTokenSecret": "s",
              "leaderElection": {"enabled": True}, "etcd": {"endpoints": ["http://e:2379"]}}
    assert unknown_fields(config) == ["etcd.endpoints", "hfTokenSecret", "server.metrics.tls"]


def test_a_made_up_flag_is_caught():
    assert flag_name("--leader-elect") not in FLAGS and flag_name("--health-probe-bind-address=:8081") not in FLAGS
    assert flag_name("--zap-log-level=debug") in FLAGS


def test_listeners_match_the_container_the_probes_and_the_service(render):
    manifests = render()
    server = operator_config(manifests)["server"]
    container = manager(manifests)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"health": server["healthProbe"]["port"], "metrics": server["metrics"]["port"],
                     "webhook": server["webhook"]["port"]}
    assert server["healthProbe"]["bindAddress"] == server["metrics"]["bindAddress"] == "0.0.0.0"
    assert server["metrics"]["secure"] is UPSTREAM["config"]["metrics_secure_default"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["webhook-cert"] == server["webhook"]["certDir"]
    assert mounts["config"] == "/etc/dynamo-operator"


def test_the_chart_owns_the_webhook_certificate_in_every_mode(render):
    modes = [{}, {"dynamo-operator.webhook.certManager.enabled": True, "dynamo-operator.webhook.certManager.issuerRef.name": "ca"},
             {"dynamo-operator.webhook.certificateSecret.external": True, "dynamo-operator.webhook.certificateSecret.caBundle": "Q0EK"}]
    for values in modes:
        manifests = render(values=values)
        webhook = operator_config(manifests)["server"]["webhook"]
        # "auto" would start the operator's cert-controller, which rewrites the Secret and caBundles.
        assert webhook["certProvisionMode"] == "manual"
        secret = {v["name"]: v for v in named(manifests, "Deployment", f"{RELEASE}-dynamo-operator")["spec"]["template"]["spec"]["volumes"]}
        assert webhook["secretName"] == secret["webhook-cert"]["secret"]["secretName"]
        assert webhook["serviceName"] == f"{RELEASE}-dynamo-operator-webhook"
        named(manifests, "Service", webhook["serviceName"])


def test_namespace_restriction_and_leader_election_use_upstreams_fields(render):
    restricted = operator_config(render(values=VALUE_SETS["namespace-restricted"]))
    assert restricted["namespace"] == {"restricted": "team-a"}
    assert "rbac" not in restricted  # upstream validates the ClusterRole names in cluster-wide mode only
    assert restricted["leaderElection"] == {"enabled": True, "id": f"{RELEASE}-dynamo-operator.nvidia.com",
                                            "namespace": "dynamo-system"}
    cluster_wide = operator_config(render(values=VALUE_SETS["single-manager-with-everything"]))
    assert "namespace" not in cluster_wide and cluster_wide["leaderElection"]["enabled"] is False


def test_discovery_and_external_addresses(render):
    config = operator_config(render(values=VALUE_SETS["external-etcd-discovery"]))
    assert config["discovery"] == {"backend": "etcd"}
    assert config["infrastructure"] == {"etcdAddress": "https://etcd-a:2379,https://etcd-b:2379",
                                        "natsAddress": "tls://nats.corp:4222"}


def test_orchestrators_follow_the_global_switches_and_lws_is_auto_detected(render):
    on = operator_config(render(values=VALUE_SETS["orchestrators-and-checkpoints"]))
    assert on["orchestrators"] == {"grove": {"enabled": True}, "kaiScheduler": {"enabled": True}}
    assert operator_config(render())["orchestrators"] == {"grove": {"enabled": False}, "kaiScheduler": {"enabled": False}}
    # 1.6's OperatorConfiguration has no checkpoint storage (the snapshot agent owns it): it is a workload setting.
    assert on["checkpoint"] == {"enabled": True}
    settings = workload_settings(render(values=VALUE_SETS["orchestrators-and-checkpoints"]))
    assert settings["checkpoint"]["storage"]["pvc"] == {"pvcName": "snapshot-pvc", "basePath": "/checkpoints", "create": True,
                                                        "size": "100Gi", "accessMode": "ReadWriteMany", "storageClassName": "efs-sc"}


def test_settings_without_an_upstream_field_stay_out_of_the_operator_config(render):
    manifests = render(values=VALUE_SETS["single-manager-with-everything"])
    settings = workload_settings(manifests)
    assert settings["hfTokenSecret"] == "hf-token-secret"
    assert settings["etcd"]["auth"]["secretName"] == f"{RELEASE}-etcd-auth"
    assert settings["nats"]["tls"]["secretName"] == f"{RELEASE}-nats-tls"
    assert settings["imagePullSecrets"] == [{"name": "mirror-creds"}]
    assert not {"hfTokenSecret", "etcd", "nats", "imagePullSecrets", "workerDefaults"} & set(operator_config(manifests))
    assert workload_settings(render()) == {}
