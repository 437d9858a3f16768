"""Every port is a value, and every consumer of a port follows it: Services, containers, the
operator's configuration (its listeners and the workload addresses), NetworkPolicies and the
`helm test` probes."""

import pytest
import yaml

from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.manifests import by_kind, named, operator_config

RELEASE = "dynamo-platform"
# Each port value set away from its default, to numbers no template could hard-code by chance.
MOVED = {
    "global.etcd.clientPort": 12379,
    "etcd.peerPort": 12380,
    "etcd.metricsPort": 12381,
    "global.nats.clientPort": 14222,
    "nats.clusterPort": 16222,
    "nats.monitorPort": 18222,
    "dynamo-operator.controllerManager.healthProbePort": 18081,
    "dynamo-operator.metricsService.port": 18443,
    "dynamo-operator.webhook.port": 19443,
}
DEFAULTS = {2379, 2380, 2381, 4222, 6222, 8222, 8081, 8443, 9443}


@pytest.fixture(scope="module")
def moved(render):
    return render(values={**ETCD_AND_NATS, **MOVED, "global.networkPolicy.enabled": True, "nats.replicas": 3, "etcd.replicas": 3})


def service_ports(manifests, name):
    return {p["name"]: p["port"] for p in named(manifests, "Service", name)["spec"]["ports"]}


def container_ports(manifests, kind, name):
    (container, *_) = named(manifests, kind, name)["spec"]["template"]["spec"]["containers"]
    return {p["name"]: p["containerPort"] for p in container["ports"]}


def policy_ports(manifests, component):
    policies = [p for p in by_kind(manifests, "NetworkPolicy") if p["metadata"]["labels"]["app.kubernetes.io/name"] == component]
    return {port["port"] for policy in policies for rule in policy["spec"]["ingress"] for port in rule["ports"]}


def probe_script(manifests, probe):
    return named(manifests, "Pod", f"{RELEASE}-test-{probe}")["spec"]["containers"][0]["command"][-1]


def test_operator_workload_config_follows_the_client_ports(moved):
    infrastructure = operator_config(moved)["infrastructure"]
    assert infrastructure["etcdAddress"] == f"http://{RELEASE}-etcd.dynamo-system.svc.cluster.local:12379"
    assert infrastructure["natsAddress"] == f"nats://{RELEASE}-nats.dynamo-system.svc.cluster.local:14222"


def test_operator_listens_where_its_container_ports_and_probes_point(moved):
    server = operator_config(moved)["server"]
    assert (server["healthProbe"]["port"], server["metrics"]["port"], server["webhook"]["port"]) == (18081, 18443, 19443)
    (container,) = named(moved, "Deployment", f"{RELEASE}-dynamo-operator")["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"health": 18081, "metrics": 18443, "webhook": 19443}
    assert container["livenessProbe"]["httpGet"]["port"] == container["readinessProbe"]["httpGet"]["port"] == "health"


def test_services_follow_the_port_values(moved):
    assert set(service_ports(moved, f"{RELEASE}-etcd").values()) == {12379, 12381}
    assert set(service_ports(moved, f"{RELEASE}-etcd-headless").values()) == {12379, 12380}
    assert set(service_ports(moved, f"{RELEASE}-nats").values()) == {14222, 18222}
    assert set(service_ports(moved, f"{RELEASE}-dynamo-operator-metrics").values()) == {18443, 18081}


def test_containers_listen_on_the_port_values(moved):
    assert set(container_ports(moved, "StatefulSet", f"{RELEASE}-etcd").values()) == {12379, 12380, 12381}
    assert set(container_ports(moved, "StatefulSet", f"{RELEASE}-nats").values()) >= {14222, 16222, 18222}
    assert set(container_ports(moved, "Deployment", f"{RELEASE}-dynamo-operator").values()) == {19443, 18443, 18081}


def test_network_policies_open_the_port_values(moved):
    assert policy_ports(moved, "etcd") == {12379, 12380, 12381}
    assert policy_ports(moved, "nats") == {14222, 16222, 18222}
    assert policy_ports(moved, "dynamo-operator") == {19443, 18443, 18081}


@pytest.mark.parametrize(("probe", "ports"), [("etcd", {12381}), ("nats", {18222}), ("operator", {18081})])
def test_helm_test_probes_dial_the_port_values(moved, probe, ports):
    script = probe_script(moved, probe)
    assert all(f":{port}/" in script for port in ports), script
    assert not any(f":{port}/" in script for port in DEFAULTS), script


def test_no_default_port_survives_anywhere_once_every_port_moved(moved):
    """A template that hard-codes a port shows up here, wherever it is."""
    text = yaml.safe_dump_all(m for m in moved if m["kind"] != "CustomResourceDefinition")
    stale = sorted(port for port in DEFAULTS if f":{port}" in text or f"port: {port}\n" in text or f"Port: {port}\n" in text)
    assert not stale, f"default ports still rendered: {stale}"
