"""GitOps mode: Argo CD renders with `helm template` (no lookup) on every sync, so two renders
must be byte-identical, and the chart must refuse to generate a Secret it could not keep."""

import pytest

from dynamo_harness.helm import Helm
from dynamo_harness.paths import overlay_names

# Every secret from outside the chart: the webhook certificate from cert-manager, the etcd and
# NATS credentials and TLS from Secrets the user created (docs/gitops.md).
GITOPS = {
    "global.gitops.enabled": True,
    "dynamo-operator.webhook.certManager.enabled": True,
    "dynamo-operator.webhook.certManager.issuerRef.name": "dynamo-ca",
    "global.etcd.auth.existingSecret": "etcd-root",
    "global.etcd.tls.existingSecret": "etcd-tls",
    "global.nats.auth.existingSecret": "nats-auth",
    "global.nats.tls.existingSecret": "nats-tls",
}


def gitops_values(everything_on, overlay: str | None) -> dict:
    """Every component on (auth and TLS included), in GitOps mode."""
    return {**everything_on(overlay), **GITOPS}


@pytest.mark.parametrize("overlay", [None, *overlay_names()], ids=["defaults", *overlay_names()])
def test_gitops_two_renders_are_byte_identical(helm: Helm, everything_on, overlay):
    values = gitops_values(everything_on, overlay)
    first, second = (helm.template_text(overlay=overlay, values=values) for _ in range(2))
    assert first == second


def test_gitops_renders_no_secret(render, everything_on):
    rendered = render(values=gitops_values(everything_on, None))
    assert [m["metadata"]["name"] for m in rendered if m["kind"] == "Secret"] == []


def test_without_gitops_mode_generated_secrets_change_between_renders(helm: Helm, everything_on):
    """The check above can fail: outside GitOps mode the chart generates secrets per render."""
    first, second = (helm.template_text(values=everything_on(None)) for _ in range(2))
    assert first != second


@pytest.mark.parametrize(
    "dropped, key",
    [
        ("dynamo-operator.webhook.certManager.enabled", "dynamo-operator.webhook.certManager.enabled=true"),
        ("global.etcd.auth.existingSecret", "global.etcd.auth.existingSecret"),
        ("global.etcd.tls.existingSecret", "global.etcd.tls.existingSecret"),
        ("global.nats.auth.existingSecret", "global.nats.auth.existingSecret"),
        ("global.nats.tls.existingSecret", "global.nats.tls.existingSecret"),
    ],
    ids=["webhook-cert", "etcd-auth", "etcd-tls", "nats-auth", "nats-tls"],
)
def test_gitops_mode_fails_naming_the_key_of_a_secret_it_would_generate(render_error, everything_on, dropped, key):
    values = gitops_values(everything_on, None)
    values[dropped] = False if dropped.endswith("enabled") else ""
    message = render_error(values=values)
    assert "global.gitops.enabled=true" in message and key in message


def test_gitops_mode_accepts_an_external_webhook_certificate(render):
    values = {
        **GITOPS,
        "dynamo-operator.webhook.certManager.enabled": False,
        "dynamo-operator.webhook.certificateSecret.external": True,
        "dynamo-operator.webhook.certificateSecret.caBundle": "Q0EK",
    }
    webhooks = [m for m in render(values=values) if m["kind"].endswith("WebhookConfiguration")]
    assert webhooks and all(w["clientConfig"]["caBundle"] == "Q0EK" for m in webhooks for w in m["webhooks"])
