"""Secure defaults visible in the manifests: restricted pod security, no secrets in ConfigMaps."""

import base64

from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.manifests import by_kind, pod_specs

PRIVILEGED_BY_DESIGN = {"DaemonSet/dynamo-platform-snapshot-agent"}


def restricted_violations(pod):
    """The 'restricted' Pod Security Standard, checked field by field."""
    spec = pod.spec
    pod_ctx = spec.get("securityContext", {})
    found = []
    if spec.get("hostPID") or spec.get("hostNetwork") or spec.get("hostIPC"):
        found.append("host namespaces")
    if any("hostPath" in v for v in spec.get("volumes", [])):
        found.append("hostPath volume")
    for c in pod.containers():
        ctx = c.get("securityContext", {})
        where = f"{c['name']}:"
        if ctx.get("privileged"):
            found.append(f"{where} privileged")
        if ctx.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where} allowPrivilegeEscalation not false")
        if ctx.get("capabilities", {}).get("drop") != ["ALL"]:
            found.append(f"{where} capabilities not dropped")
        if not (ctx.get("runAsNonRoot") or pod_ctx.get("runAsNonRoot")):
            found.append(f"{where} runAsNonRoot unset")
        if (ctx.get("seccompProfile") or pod_ctx.get("seccompProfile", {})).get("type") != "RuntimeDefault":
            found.append(f"{where} seccomp not RuntimeDefault")
        if not ctx.get("readOnlyRootFilesystem"):
            found.append(f"{where} writable root filesystem")
    return found


def test_every_pod_but_the_snapshot_agent_meets_restricted_pod_security(render, overlay, everything_on, optional_apis):
    pods = pod_specs(render(overlay, everything_on(overlay), api_versions=optional_apis))
    assert {p.name for p in pods} >= PRIVILEGED_BY_DESIGN
    violations = {p.name: restricted_violations(p) for p in pods if p.name not in PRIVILEGED_BY_DESIGN}
    assert not {name: v for name, v in violations.items() if v}


def test_no_secret_value_appears_in_a_configmap(render, everything_on):
    manifests = render(values=everything_on())
    secrets = [base64.b64decode(v).decode() for s in by_kind(manifests, "Secret") for v in s.get("data", {}).values()]
    assert len(secrets) >= 5
    config_text = "".join(str(cm.get("data")) for cm in by_kind(manifests, "ConfigMap"))
    leaked = [s[:8] + "..." for s in secrets if s in config_text]
    assert not leaked


def test_no_service_account_token_where_the_pod_does_not_call_the_api(render):
    # etcd and NATS never talk to the API server.
    statefulsets = by_kind(render(values=ETCD_AND_NATS), "StatefulSet")
    assert {s["metadata"]["name"] for s in statefulsets} == {"dynamo-platform-etcd", "dynamo-platform-nats"}
    for statefulset in statefulsets:
        assert statefulset["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
