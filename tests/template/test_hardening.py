"""Hardening visible in the manifests: reviewed RBAC, NetworkPolicies, TLS and auth Secrets,
spread of quorum members, and PVCs that outlive an uninstall unless the user opts in."""

import base64
import difflib
import subprocess
from pathlib import Path

import pytest
import yaml

from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.manifests import by_kind, named, operator_config, walk, workload_settings

RELEASE = "dynamo-platform"
GOLDEN_RBAC = Path(__file__).parent / "golden" / "operator-rbac.yaml"
# Each mode of the operator's RBAC, rendered from these values and compared with the golden file.
RBAC_MODES = {
    "cluster-wide": {},
    "cluster-wide-with-grove-kai-prometheus": {
        "global.grove.enabled": True,
        "global.kai-scheduler.enabled": True,
        "dynamo-operator.dynamo.metrics.prometheusEndpoint": "http://prometheus.monitoring:9090",
    },
    "namespace-restricted": {"dynamo-operator.namespaceRestriction.enabled": True},
    "cluster-wide-with-lws": {"global.lws.enabled": True},
}
PRODUCTION_OVERLAYS = ("aks-spot", "eks-efa", "gke")
DGD_LABEL = "nvidia.com/dynamo-graph-deployment-name"
TLS_ON = {**ETCD_AND_NATS, "global.etcd.tls.enabled": True, "global.nats.tls.enabled": True}


# The roles the chart renders for the operator ("" = its own) and for the planner, DGDR-profiling
# and EPP pods it runs: ClusterRoles "<ns>-<release>-dynamo-operator-<component>", or Roles.
OPERATOR_ROLE_SUFFIXES = {"dynamo-operator-manager": "", "dynamo-operator-planner": " planner", "planner-role": " planner",
                          "dynamo-operator-dgdr-profiling": " dgdr-profiling", "dgdr-profiling-job": " dgdr-profiling",
                          "dynamo-operator-epp": " epp", "epp-role": " epp"}


def operator_rbac(manifests) -> dict:
    found = {}
    for role in by_kind(manifests, "ClusterRole", "Role"):
        for suffix, label in OPERATOR_ROLE_SUFFIXES.items():
            if role["metadata"]["name"].endswith(suffix):
                found[role["kind"] + label] = role["rules"]
    return found


def test_operator_rbac_matches_the_reviewed_list(render):
    """Every widening of the operator's permissions is a visible change to the golden file."""
    rendered = {mode: operator_rbac(render(values=values)) for mode, values in RBAC_MODES.items()}
    reviewed = yaml.safe_load(GOLDEN_RBAC.read_text())
    if rendered != reviewed:
        diff = difflib.unified_diff(yaml.safe_dump(reviewed).splitlines(), yaml.safe_dump(rendered).splitlines(),
                                    "reviewed", "rendered", lineterm="")
        pytest.fail(f"operator RBAC changed; review it, then update {GOLDEN_RBAC.name}:\n" + "\n".join(diff))


def test_golden_rbac_has_no_wildcards_and_never_deletes_or_patches_secrets():
    # Secrets: the operator ensures the MPI SSH-key Secret of multinode DGDs (create, update), as 1.6 does.
    reviewed = yaml.safe_load(GOLDEN_RBAC.read_text())
    rules = [rule for mode in reviewed.values() for kind_rules in mode.values() for rule in kind_rules]
    assert rules and not [r for r in rules if "*" in r["verbs"] + r["resources"] + r["apiGroups"]]
    secret_verbs = {verb for r in rules if "secrets" in r["resources"] for verb in r["verbs"]}
    assert secret_verbs == {"create", "get", "list", "update", "watch"}


def test_network_policies_are_opt_in(render):
    assert not by_kind(render(), "NetworkPolicy")
    assert not by_kind(render("kind"), "NetworkPolicy")
    assert not by_kind(render(values=ETCD_AND_NATS), "NetworkPolicy")


@pytest.mark.parametrize("overlay", PRODUCTION_OVERLAYS)
def test_production_overlays_fence_etcd_nats_and_the_operator(render, overlay):
    policies = {p["metadata"]["name"]: p for p in by_kind(render(overlay), "NetworkPolicy")}
    assert set(policies) == {f"{RELEASE}-etcd", f"{RELEASE}-nats", f"{RELEASE}-dynamo-operator"}
    for name, client_port, peer_port in (("etcd", 2379, 2380), ("nats", 4222, 6222)):
        policy = policies[f"{RELEASE}-{name}"]
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        rules = {rule["ports"][0]["port"]: rule["from"] for rule in policy["spec"]["ingress"]}
        clients = rules[client_port]
        assert {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": RELEASE, "app.kubernetes.io/part-of": "dynamo-platform"}}} in clients
        assert any(DGD_LABEL == e["key"] for c in clients for e in c.get("podSelector", {}).get("matchExpressions", []))
        assert rules[peer_port] == [{"podSelector": {"matchLabels": policy["spec"]["podSelector"]["matchLabels"]}}]
    webhook_rule = policies[f"{RELEASE}-dynamo-operator"]["spec"]["ingress"][0]
    assert webhook_rule["ports"] == [{"port": 9443, "protocol": "TCP"}] and "from" not in webhook_rule


def test_webhook_port_can_be_limited_to_the_api_server_cidrs(render):
    values = {"global.networkPolicy.enabled": True, "global.networkPolicy.apiServerCIDRs": ["10.0.0.0/16"]}
    policy = named(render(values=values), "NetworkPolicy", f"{RELEASE}-dynamo-operator")
    assert policy["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "10.0.0.0/16"}}]


def test_tls_turns_every_etcd_and_nats_url_to_tls_and_mounts_the_secret(render):
    manifests = render(values={**TLS_ON, "etcd.replicas": 3})
    etcd = named(manifests, "StatefulSet", f"{RELEASE}-etcd")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in etcd["containers"][0]["env"]}
    for key in ("ETCD_LISTEN_CLIENT_URLS", "ETCD_ADVERTISE_CLIENT_URLS", "ETCD_LISTEN_PEER_URLS", "ETCD_INITIAL_ADVERTISE_PEER_URLS"):
        assert env[key].startswith("https://"), (key, env[key])
    assert env["ETCD_INITIAL_CLUSTER"].count("=https://") == 3
    assert env["ETCD_PEER_CLIENT_CERT_AUTH"] == "true" and env["ETCD_PEER_TRUSTED_CA_FILE"] == "/etc/etcd/tls/ca.crt"
    # etcd requires a client certificate whenever a client CA file is set (checked on the real node).
    assert "ETCD_TRUSTED_CA_FILE" not in env and env["ETCD_CLIENT_CERT_AUTH"] == "false"
    assert {"name": "tls", "secret": {"secretName": f"{RELEASE}-etcd-tls"}} in etcd["volumes"]
    infrastructure, settings = operator_config(manifests)["infrastructure"], workload_settings(manifests)
    assert infrastructure["etcdAddress"].startswith("https://") and infrastructure["natsAddress"].startswith("tls://")
    assert settings["etcd"]["tls"] == {"secretName": f"{RELEASE}-etcd-tls", "caKey": "ca.crt"}
    assert settings["nats"]["tls"] == {"secretName": f"{RELEASE}-nats-tls", "caKey": "ca.crt"}


def test_generated_certificates_cover_every_member_and_service_name(render, tmp_path):
    manifests = render(values=TLS_ON)
    for service in ("etcd", "nats"):
        secret = named(manifests, "Secret", f"{RELEASE}-{service}-tls")
        assert secret["type"] == "kubernetes.io/tls"
        pem = base64.b64decode(secret["data"]["tls.crt"])
        names = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=pem,
                               capture_output=True, check=True).stdout.decode()
        host = f"{RELEASE}-{service}.dynamo-system.svc.cluster.local"
        assert f"DNS:{host}" in names and f"DNS:*.{RELEASE}-{service}-headless.dynamo-system.svc.cluster.local" in names
        (tmp_path / "ca.crt").write_bytes(base64.b64decode(secret["data"]["ca.crt"]))
        (tmp_path / "tls.crt").write_bytes(pem)
        verify = subprocess.run(["openssl", "verify", "-CAfile", tmp_path / "ca.crt", tmp_path / "tls.crt"],
                                capture_output=True, text=True)
        assert verify.returncode == 0, verify.stdout + verify.stderr


def test_generated_keys_are_ecdsa_p256_and_belong_to_their_certificates(render):
    """P-256 keys: stronger than RSA-2048 and made in microseconds, where each RSA key cost every
    render (helm template, install, upgrade) about 0.1 s of CPU."""
    manifests = render(values=TLS_ON)
    for name in (f"{RELEASE}-etcd-tls", f"{RELEASE}-nats-tls", f"{RELEASE}-webhook-server-cert"):
        data = {key: base64.b64decode(value) for key, value in named(manifests, "Secret", name)["data"].items()}
        for certificate in (data["ca.crt"], data["tls.crt"]):
            text = openssl("x509", "-noout", "-text", stdin=certificate)
            assert "id-ecPublicKey" in text and "prime256v1" in text, (name, text)
        assert openssl("pkey", "-pubout", stdin=data["tls.key"]) == openssl("x509", "-noout", "-pubkey", stdin=data["tls.crt"]), name


def openssl(*args: str, stdin: bytes) -> str:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=True).stdout.decode()


def test_existing_tls_and_auth_secrets_are_referenced_not_generated(render):
    values = {**ETCD_AND_NATS, "global.etcd.tls.enabled": True, "global.etcd.tls.existingSecret": "corp-etcd-tls",
              "global.nats.auth.enabled": True, "global.nats.auth.existingSecret": "corp-nats"}
    manifests = render(values=values)
    assert {s["metadata"]["name"] for s in by_kind(manifests, "Secret")} == {f"{RELEASE}-webhook-server-cert"}
    settings = workload_settings(manifests)
    assert settings["etcd"]["tls"]["secretName"] == "corp-etcd-tls"
    assert settings["nats"]["auth"] == {"secretName": "corp-nats", "user": "dynamo", "passwordKey": "password"}


def test_external_services_with_tls_must_name_their_secret(render_error):
    values = {"global.nats.install": False, "dynamo-operator.dynamo.nats.url": "tls://nats.corp:4222",
              "global.nats.tls.enabled": True}
    assert "global.nats.tls.existingSecret" in render_error(values=values)


def test_no_certificate_or_password_reaches_a_configmap_or_an_arg(render, everything_on):
    manifests = render(values={**everything_on(), "dynamo-operator.dynamo.hfTokenSecret": "hf-token-secret"})
    secret_values = {base64.b64decode(v).decode() for s in by_kind(manifests, "Secret") for v in s.get("data", {}).values()}
    assert secret_values
    for m in by_kind(manifests, "ConfigMap", "StatefulSet", "Deployment", "Job", "DaemonSet", "Pod"):
        text = yaml.safe_dump(m)
        assert "BEGIN CERTIFICATE" not in text and "PRIVATE KEY" not in text, m["metadata"]["name"]
        leaked = [v for v in secret_values if len(v) >= 16 and any(v in str(leaf) for leaf in walk(m))]
        assert not leaked, m["metadata"]["name"]
    assert workload_settings(manifests)["hfTokenSecret"] == "hf-token-secret"


@pytest.mark.parametrize("service", ["etcd", "nats"])
def test_quorum_members_spread_over_nodes_and_zones(render, service):
    spec = named(render(values={**ETCD_AND_NATS, f"{service}.replicas": 3}), "StatefulSet",
                 f"{RELEASE}-{service}")["spec"]["template"]["spec"]
    spread = {c["topologyKey"]: c["whenUnsatisfiable"] for c in spec["topologySpreadConstraints"]}
    assert spread == {"kubernetes.io/hostname": "DoNotSchedule", "topology.kubernetes.io/zone": "ScheduleAnyway"}
    single = named(render(values=ETCD_AND_NATS), "StatefulSet", f"{RELEASE}-{service}")["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in single


def test_operator_replicas_spread_over_nodes_so_one_node_loss_keeps_a_webhook_server(render):
    """Its replicas serve the admission webhooks, which fail closed: two on one node would fall together."""
    spec = named(render(values={"dynamo-operator.controllerManager.replicas": 2}), "Deployment",
                 f"{RELEASE}-dynamo-operator")["spec"]["template"]["spec"]
    spread = {c["topologyKey"]: c["whenUnsatisfiable"] for c in spec["topologySpreadConstraints"]}
    assert spread == {"kubernetes.io/hostname": "DoNotSchedule", "topology.kubernetes.io/zone": "ScheduleAnyway"}
    single = named(render(), "Deployment", f"{RELEASE}-dynamo-operator")["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in single


def test_node_affinity_keeps_the_default_spread(render):
    """Keeping quorum members off a pool (aks-spot: off the spot nodes) must not let them share a node."""
    off_spot = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{
        "matchExpressions": [{"key": "kubernetes.azure.com/scalesetpriority", "operator": "NotIn", "values": ["spot"]}]}]}}}
    for values in ({"etcd.affinity": off_spot}, {"global.affinity": off_spot}):
        spec = named(render(values={**ETCD_AND_NATS, "etcd.replicas": 3, **values}), "StatefulSet",
                     f"{RELEASE}-etcd")["spec"]["template"]["spec"]
        assert spec["affinity"] == off_spot
        assert {c["topologyKey"] for c in spec["topologySpreadConstraints"]} == {"kubernetes.io/hostname",
                                                                               "topology.kubernetes.io/zone"}


def test_own_spread_replaces_the_default(render):
    own = [{"maxSkew": 2, "topologyKey": "rack", "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "etcd"}}}]
    spec = named(render(values={**ETCD_AND_NATS, "etcd.replicas": 3, "etcd.topologySpreadConstraints": own}), "StatefulSet",
                 f"{RELEASE}-etcd")["spec"]["template"]["spec"]
    assert spec["topologySpreadConstraints"] == own


def test_pvcs_survive_uninstall_unless_the_user_opts_in(render):
    def policy(values):
        return {s["metadata"]["name"]: s["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"]
                for s in by_kind(render(values={**ETCD_AND_NATS, **values}), "StatefulSet")}

    assert policy({}) == {f"{RELEASE}-etcd": "Retain", f"{RELEASE}-nats": "Retain"}
    opted = {"etcd.persistence.deleteOnUninstall": True, "nats.jetstream.fileStore.deleteOnUninstall": True}
    assert policy(opted) == {f"{RELEASE}-etcd": "Delete", f"{RELEASE}-nats": "Delete"}


@pytest.mark.parametrize("overlay", PRODUCTION_OVERLAYS)
def test_production_overlays_keep_a_quorum_through_disruptions(render, overlay):
    manifests = render(overlay)
    budgets = {p["metadata"]["name"]: p["spec"] for p in by_kind(manifests, "PodDisruptionBudget")}
    assert budgets[f"{RELEASE}-etcd"]["minAvailable"] == 2 and budgets[f"{RELEASE}-nats"]["minAvailable"] == 2
    for name in (f"{RELEASE}-etcd", f"{RELEASE}-nats"):
        assert named(manifests, "StatefulSet", name)["spec"]["template"]["spec"]["topologySpreadConstraints"]


def test_etcd_asks_clients_for_certificates_only_with_client_cert_auth(render):
    values = {**TLS_ON, "global.etcd.tls.clientCertAuth": True}
    etcd = named(render(values=values), "StatefulSet", f"{RELEASE}-etcd")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in etcd["containers"][0]["env"]}
    assert env["ETCD_CLIENT_CERT_AUTH"] == "true" and env["ETCD_TRUSTED_CA_FILE"] == "/etc/etcd/tls/ca.crt"
