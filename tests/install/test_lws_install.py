"""The bundled LeaderWorkerSet: its CRD (from the pinned sigs.k8s.io/lws module) is served, the
controller comes up, and its webhooks are registered where the controller will inject its CA.
Pods run on kwok here, so the controller process and its webhooks are not exercised (kind or a real
cluster does that)."""

import yaml

from dynamo_harness.deploy import templates
from dynamo_harness.deploy.config import parse
from dynamo_harness.kube_api import DEPLOYMENT

LWS_CRD = "leaderworkersets.leaderworkerset.x-k8s.io"


def test_bundled_lws_serves_its_crd_and_registers_its_webhooks(install, kubectl):
    release = install(values={"global.lws.install": True})
    crd = kubectl.get("crd", LWS_CRD)
    assert [v["name"] for v in crd["spec"]["versions"] if v["served"]] == ["v1"]
    deployments = {d["metadata"]["name"]: d for d in release.objects(DEPLOYMENT)}
    controller = deployments["dynamo-platform-lws-controller"]
    assert controller["status"].get("availableReplicas") == 1
    for kind in ("mutatingwebhookconfiguration", "validatingwebhookconfiguration"):
        hooks = kubectl.get(kind, f"lws-{kind.removesuffix('webhookconfiguration')}-webhook-configuration")["webhooks"]
        assert {h["clientConfig"]["service"]["namespace"] for h in hooks} == {release.namespace}


def test_lws_targeted_multinode_dgd_is_accepted_by_the_dgd_crd(kubectl, schema_only_namespace):
    config = parse({"runtime": "vllm", "topology": "disagg-multinode", "model": "Qwen/Qwen3-0.6B",
                    "multinode_backend": "lws", "namespace": schema_only_namespace})
    manifest = templates.render(config)
    out = kubectl.run("apply", "--dry-run=server", "-o", "yaml", "-f", "-", input=yaml.safe_dump(manifest))
    assert yaml.safe_load(out)["metadata"]["annotations"]["nvidia.com/enable-grove"] == "false"
