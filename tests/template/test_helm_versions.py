"""Users run Helm 3 and Helm 4: both pinned versions render the chart the same.

GitOps mode with an external webhook certificate makes each render deterministic (nothing
generated), so the comparison is of the whole output, with one Kubernetes version for both; the
value sets as they are compare equal once the certificates generated per render are masked. Helm 3
and Helm 4 differ in one known way: where they place kinds Helm does not know (custom resources
such as cert-manager's Certificate or KAI's Queue) among the others, so with those rendered the
documents are the same and only their order differs.
"""

import re

import pytest
import yaml

from dynamo_harness.helm import HELM3, HELM4, Helm
from dynamo_harness.paths import overlay_names

KUBE_VERSION = "1.33.0"
VALUE_SETS = [None, *overlay_names()]
VALUE_SET_IDS = ["defaults", *overlay_names()]
EXTERNAL_WEBHOOK_CERT = {
    "dynamo-operator.webhook.certManager.enabled": False,
    "dynamo-operator.webhook.certificateSecret.external": True,
    "dynamo-operator.webhook.certificateSecret.caBundle": "Q0EK",
}


@pytest.fixture(scope="module")
def helms() -> tuple[Helm, Helm]:
    missing = [str(b) for b in (HELM3, HELM4) if not b.exists()]
    if missing:
        pytest.fail(f"{missing} missing: run `make bootstrap` (it builds Helm 3 from hack/tools/helm3)")
    return Helm(HELM3), Helm(HELM4)


def render_both(helms, overlay, values) -> tuple[str, str]:
    return tuple(h.template_text(overlay=overlay, values=values, include_crds=True, kube_version=KUBE_VERSION)
                 for h in helms)


def documents(text: str) -> list[str]:
    return [doc for doc in re.split(r"^---\n", text, flags=re.M) if doc.strip()]


# The *.k8s.io groups Kubernetes itself serves; others there (gateway.networking.k8s.io,
# inference.networking.k8s.io) are CRDs, which Helm 3 and 4 order differently.
BUILTIN_K8S_IO_GROUPS = {
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "authentication.k8s.io",
    "authorization.k8s.io", "certificates.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io",
    "flowcontrol.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io", "rbac.authorization.k8s.io",
    "resource.k8s.io", "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
}


def is_builtin(doc: str) -> bool:
    """A Kubernetes built-in kind: core, a one-word group (apps, batch, policy) or a built-in *.k8s.io group."""
    api_version = (yaml.safe_load(doc) or {}).get("apiVersion", "")
    group = api_version.rpartition("/")[0]
    return "." not in group or group in BUILTIN_K8S_IO_GROUPS


def test_pinned_helms_are_major_versions_3_and_4(helms):
    assert [h.major_version() for h in helms] == [3, 4]


@pytest.mark.parametrize("overlay", VALUE_SETS, ids=VALUE_SET_IDS)
def test_helm3_and_helm4_render_byte_identical(helms, gitops_values, overlay):
    helm3, helm4 = render_both(helms, overlay, {**gitops_values(overlay, everything=False), **EXTERNAL_WEBHOOK_CERT})
    assert helm3 == helm4


# What the chart generates per render outside GitOps mode (the webhook CA and certificate).
GENERATED = re.compile(r"^(\s*(?:ca\.crt|tls\.crt|tls\.key|caBundle): ).*$", flags=re.M)


@pytest.mark.parametrize("overlay", VALUE_SETS, ids=VALUE_SET_IDS)
def test_helm3_and_helm4_render_each_value_set_as_is_identically_but_for_generated_certificates(helms, overlay):
    helm3, helm4 = (GENERATED.sub(r"\1<generated>", text) for text in render_both(helms, overlay, None))
    assert "<generated>" in helm4 and helm3 == helm4


@pytest.mark.parametrize("overlay", VALUE_SETS, ids=VALUE_SET_IDS)
def test_helm3_and_helm4_differ_only_in_where_custom_kinds_go(helms, gitops_values, overlay):
    """Every component on (cert-manager, KAI queues): same documents, built-in kinds in the same order."""
    helm3, helm4 = (documents(text) for text in render_both(helms, overlay, gitops_values(overlay)))
    assert sorted(helm3) == sorted(helm4)
    assert [d for d in helm3 if is_builtin(d)] == [d for d in helm4 if is_builtin(d)]
