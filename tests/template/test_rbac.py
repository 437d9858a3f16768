"""RBAC and webhooks: least privilege, and namespace restriction leaves no cluster-wide RBAC."""

from pathlib import Path

import yaml

from dynamo_harness.manifests import by_kind, ident, named

RELEASE = "dynamo-platform"
CLUSTER_RBAC = ("ClusterRole", "ClusterRoleBinding")
RESTRICTED = {"dynamo-operator.namespaceRestriction.enabled": True}
UPSTREAM_ROLE = yaml.safe_load((Path(__file__).parent / "data" / "upstream_manager_role.yaml").read_text())
# The kinds upstream's storage-version migrator moves (cluster-wide mode).
MIGRATOR_CRDS = ("dynamocomponentdeployments", "dynamographdeployments", "dynamographdeploymentrequests",
                 "dynamographdeploymentscalingadapters")
CLUSTER_SCOPED = {"nodes", "ingressclasses", "deviceclasses", "customresourcedefinitions", "tokenreviews",
                  "subjectaccessreviews", "clusterroles", "clustertopologybindings", "queues"}


def rules_of(manifests):
    return [rule for role in by_kind(manifests, "Role", "ClusterRole") for rule in role["rules"]]


def test_namespace_restriction_renders_role_only_rbac(render):
    manifests = render("namespace-restricted")
    assert not by_kind(manifests, *CLUSTER_RBAC), [ident(m) for m in by_kind(manifests, *CLUSTER_RBAC)]
    role = named(manifests, "Role", f"{RELEASE}-dynamo-operator-manager")
    assert role["metadata"]["namespace"] == "dynamo-system"
    assert any("dynamographdeployments" in r["resources"] for r in role["rules"])


def test_namespace_restriction_can_target_another_namespace(render):
    manifests = render(values={**RESTRICTED, "dynamo-operator.namespaceRestriction.targetNamespace": "team-a"})
    assert named(manifests, "Role", f"{RELEASE}-dynamo-operator-manager")["metadata"]["namespace"] == "team-a"
    assert named(manifests, "RoleBinding", f"{RELEASE}-dynamo-operator-manager")["metadata"]["namespace"] == "team-a"


def test_cluster_wide_mode_binds_a_cluster_role_named_per_namespace(render):
    manifests = render()
    binding = named(manifests, "ClusterRoleBinding", f"dynamo-system-{RELEASE}-dynamo-operator-manager")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": f"{RELEASE}-dynamo-operator", "namespace": "dynamo-system"}]


def test_no_rule_grants_wildcards(render, everything_on):
    values = {**everything_on(), "dynamo-operator.dynamo.metrics.prometheusEndpoint": "http://prom:9090"}
    for rule in rules_of(render(values=values)):
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule.get(field, []), rule


def manager_grants(manifests) -> dict[str, set[str]]:
    """The manager role's "<apiGroup>/<resource>" -> verbs (core for the "" group), resourceNames or not."""
    grants: dict[str, set[str]] = {}
    for rule in named(manifests, "ClusterRole", f"dynamo-system-{RELEASE}-dynamo-operator-manager")["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                grants.setdefault(f"{group or 'core'}/{resource}", set()).update(rule["verbs"])
    return grants


def test_manager_role_grants_what_upstream_1_6_grants_and_differs_only_where_kept(render, everything_on):
    values = {**everything_on(), "dynamo-operator.dynamo.metrics.prometheusEndpoint": "http://prom:9090"}
    chart = manager_grants(render(values=values))
    upstream = {key: set(verbs) for key, verbs in UPSTREAM_ROLE["grants"].items()}
    differences = {}
    for key in sorted(chart.keys() | upstream.keys()):
        missing, extra = upstream.get(key, set()) - chart.get(key, set()), chart.get(key, set()) - upstream.get(key, set())
        if missing or extra:
            differences[key] = {k: sorted(v) for k, v in (("missing", missing), ("extra", extra)) if v}
    kept = {key: {k: sorted(v) for k, v in entry.items() if k != "why"} for key, entry in UPSTREAM_ROLE["kept"].items()}
    assert differences == kept, "the manager role differs from Dynamo 1.6's (upstream_manager_role.yaml) other than as kept"


def test_operator_cannot_touch_webhooks_delete_secrets_or_change_other_crds(render):
    # Certificates come from the chart (or cert-manager). The operator ensures its MPI SSH-key Secrets
    # but deletes none, and re-writes only the four CRDs its storage-version migrator moves.
    # (The storage-migration hook's own role is pinned by test_storage_migration.py.)
    operator = [m for m in render() if m["metadata"].get("labels", {}).get("app.kubernetes.io/component") != "storage-migration"]
    for rule in rules_of(operator):
        assert "admissionregistration.k8s.io" not in rule.get("apiGroups", []), rule
        if "secrets" in rule.get("resources", []):
            assert "delete" not in rule["verbs"], rule
        if "apiextensions.k8s.io" in rule.get("apiGroups", []) and set(rule["verbs"]) - {"get", "list", "watch"}:
            assert rule["resourceNames"] == [f"{plural}.nvidia.com" for plural in MIGRATOR_CRDS], rule


def test_namespace_restriction_grants_no_cluster_scoped_resource(render):
    role = named(render("namespace-restricted"), "Role", f"{RELEASE}-dynamo-operator-manager")
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert not resources & CLUSTER_SCOPED, sorted(resources & CLUSTER_SCOPED)


def webhooks(manifests):
    return [w for cfg in by_kind(manifests, "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration") for w in cfg["webhooks"]]


def test_webhooks_carry_the_ca_of_the_generated_serving_certificate(render):
    manifests = render()
    secret = named(manifests, "Secret", f"{RELEASE}-webhook-server-cert")
    assert secret["type"] == "kubernetes.io/tls"
    assert {w["clientConfig"]["caBundle"] for w in webhooks(manifests)} == {secret["data"]["ca.crt"]}
    assert len(webhooks(manifests)) == 5


def test_webhook_certificate_is_valid_for_the_webhook_service(render):
    import base64
    import subprocess

    manifests = render()
    pem = base64.b64decode(named(manifests, "Secret", f"{RELEASE}-webhook-server-cert")["data"]["tls.crt"])
    text = subprocess.run(["openssl", "x509", "-noout", "-text"], input=pem, capture_output=True, check=True).stdout.decode()
    assert f"DNS:{RELEASE}-dynamo-operator-webhook.dynamo-system.svc" in text


def test_webhook_failure_policy_and_selector_follow_values(render):
    manifests = render(values={"dynamo-operator.webhook.failurePolicy": "Ignore",
                               "dynamo-operator.webhook.namespaceSelector": {"matchLabels": {"dynamo-validation": "enabled"}}})
    for hook in webhooks(manifests):
        assert hook["failurePolicy"] == "Ignore"
        assert hook["namespaceSelector"] == {"matchLabels": {"dynamo-validation": "enabled"}}


def test_restricted_webhooks_select_only_the_watched_namespace(render):
    for hook in webhooks(render("namespace-restricted")):
        assert hook["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "dynamo-system"}}


def test_cert_manager_mode_requests_a_certificate_and_injects_its_ca(render):
    manifests = render(values={"dynamo-operator.webhook.certManager.enabled": True,
                               "dynamo-operator.webhook.certManager.issuerRef.name": "selfsigned"})
    certificate = named(manifests, "Certificate", f"{RELEASE}-dynamo-operator-webhook")
    assert certificate["spec"]["secretName"] == f"{RELEASE}-webhook-server-cert"
    assert f"{RELEASE}-dynamo-operator-webhook.dynamo-system.svc" in certificate["spec"]["dnsNames"]
    assert not [s for s in by_kind(manifests, "Secret") if "webhook" in s["metadata"]["name"]]
    for cfg in by_kind(manifests, "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        assert cfg["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == f"dynamo-system/{RELEASE}-dynamo-operator-webhook"


def test_external_certificate_uses_the_given_secret_and_ca(render):
    manifests = render(values={"dynamo-operator.webhook.certificateSecret.external": True,
                               "dynamo-operator.webhook.certificateSecret.caBundle": "Q0E="})
    assert {w["clientConfig"]["caBundle"] for w in webhooks(manifests)} == {"Q0E="}
    volumes = named(manifests, "Deployment", f"{RELEASE}-dynamo-operator")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "webhook-cert", "secret": {"secretName": "webhook-server-cert"}} in volumes
