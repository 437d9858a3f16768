"""GitOps mode: Argo CD renders with `helm template` (no lookup) on every sync, so two renders
must be byte-identical, and the chart must refuse to generate a Secret it could not keep."""

import pytest

from dynamo_harness.helm import Helm
from dynamo_harness.paths import overlay_names

@pytest.mark.parametrize("overlay", [None, *overlay_names()], ids=["defaults", *overlay_names()])
def test_gitops_two_renders_are_byte_identical(helm: Helm, gitops_values, overlay):
    values = gitops_values(overlay)
    first, second = (helm.template_text(overlay=overlay, values=values) for _ in range(2))
    assert first == second


def test_gitops_renders_no_secret_material(render, gitops_values):
    """Only empty placeholders a controller fills (LWS's and Grove's webhook certificates): the chart
    never sets their data, so a GitOps sync neither rotates nor resets it."""
    rendered = render(values=gitops_values())
    secrets = {m["metadata"]["name"]: m for m in rendered if m["kind"] == "Secret"}
    assert set(secrets) <= {"dynamo-platform-lws-controller-webhook-cert", "grove-webhook-server-cert"}
    assert not [name for name, s in secrets.items() if s.get("data") or s.get("stringData")]


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
def test_gitops_mode_fails_naming_the_key_of_a_secret_it_would_generate(render_error, gitops_values, dropped, key):
    values = gitops_values()
    values[dropped] = False if dropped.endswith("enabled") else ""
    message = render_error(values=values)
    assert "global.gitops.enabled=true" in message and key in message


def test_gitops_mode_accepts_an_external_webhook_certificate(render, gitops_values):
    values = {
        **gitops_values(everything=False),
        "dynamo-operator.webhook.certManager.enabled": False,
        "dynamo-operator.webhook.certificateSecret.external": True,
        "dynamo-operator.webhook.certificateSecret.caBundle": "Q0EK",
    }
    webhooks = [m for m in render(values=values) if m["kind"].endswith("WebhookConfiguration")]
    assert webhooks and all(w["clientConfig"]["caBundle"] == "Q0EK" for m in webhooks for w in m["webhooks"])
