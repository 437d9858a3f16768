"""Each subchart behind its switch: off renders nothing, on renders a correct component."""

import pytest

from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.manifests import by_kind, ident, images, named, operator_config, pod_specs, walk, workload_settings

RELEASE = "dynamo-platform"


def names(manifests):
    return {ident(m) for m in manifests}


@pytest.mark.parametrize(
    ("switch", "component"),
    [("global.etcd.install", "etcd"), ("global.nats.install", "nats"), ("dynamo-operator.enabled", "dynamo-operator")],
)
def test_disabled_subchart_renders_nothing(render, switch, component):
    rendered = render(values={**ETCD_AND_NATS, switch: False})
    leftovers = [ident(m) for m in rendered if m["metadata"]["labels"]["app.kubernetes.io/name"] == component]
    assert not leftovers
    assert any(m["metadata"]["labels"]["app.kubernetes.io/name"] == component for m in render(values=ETCD_AND_NATS))


@pytest.mark.parametrize("service", ["etcd", "nats"])
def test_turning_a_data_plane_service_off_leaves_no_stale_address_for_workloads(render, service):
    on, off = render(values=ETCD_AND_NATS), render(values={**ETCD_AND_NATS, f"global.{service}.install": False})
    assert f"{service}Address" in operator_config(on)["infrastructure"]
    assert f"{service}Address" not in operator_config(off).get("infrastructure", {})
    assert not any(isinstance(v, str) and f"{RELEASE}-{service}" in v for v in walk(off))


def test_external_nats_and_etcd_replace_the_bundled_ones(render):
    config = operator_config(render(values={
        "global.etcd.install": False, "global.nats.install": False,
        "dynamo-operator.dynamo.etcd.endpoints": "http://etcd-a:2379,http://etcd-b:2379",
        "dynamo-operator.dynamo.nats.url": "nats://nats.shared:4222",
    }))
    # One string, as upstream's infrastructure.etcdAddress takes it (ETCD_ENDPOINTS is comma-separated).
    assert config["infrastructure"]["etcdAddress"] == "http://etcd-a:2379,http://etcd-b:2379"
    assert config["infrastructure"]["natsAddress"] == "nats://nats.shared:4222"


def test_bundled_addresses_point_at_the_bundled_services(render):
    manifests = render(values=ETCD_AND_NATS)
    config = operator_config(manifests)
    named(manifests, "Service", f"{RELEASE}-etcd")
    named(manifests, "Service", f"{RELEASE}-nats")
    assert config["infrastructure"]["etcdAddress"] == f"http://{RELEASE}-etcd.dynamo-system.svc.cluster.local:2379"
    assert config["infrastructure"]["natsAddress"] == f"nats://{RELEASE}-nats.dynamo-system.svc.cluster.local:4222"


def env_of(statefulset):
    return {e["name"]: e.get("value") for e in statefulset["spec"]["template"]["spec"]["containers"][0]["env"]}


@pytest.mark.parametrize("replicas", [1, 3, 5])
def test_etcd_initial_cluster_lists_every_member_by_its_stable_dns_name(render, replicas):
    etcd = named(render(values={**ETCD_AND_NATS, "etcd.replicas": replicas}), "StatefulSet", f"{RELEASE}-etcd")
    members = env_of(etcd)["ETCD_INITIAL_CLUSTER"].split(",")
    assert members == [
        f"{RELEASE}-etcd-{i}=http://{RELEASE}-etcd-{i}.{RELEASE}-etcd-headless.dynamo-system.svc.cluster.local:2380"
        for i in range(replicas)
    ]
    assert etcd["spec"]["replicas"] == replicas
    assert etcd["spec"]["podManagementPolicy"] == "Parallel"


def test_etcd_and_nats_keep_their_data_on_retained_pvcs(render):
    statefulsets = by_kind(render(values=ETCD_AND_NATS), "StatefulSet")
    assert {s["metadata"]["name"] for s in statefulsets} == {f"{RELEASE}-etcd", f"{RELEASE}-nats"}
    for statefulset in statefulsets:
        assert statefulset["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
        (claim,) = statefulset["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["resources"]["requests"]["storage"].endswith("Gi"), ident(statefulset)


def test_etcd_without_persistence_uses_emptydir(render):
    etcd = named(render(values={**ETCD_AND_NATS, "etcd.persistence.enabled": False}), "StatefulSet", f"{RELEASE}-etcd")
    assert "volumeClaimTemplates" not in etcd["spec"]
    assert {"name": "data", "emptyDir": {}} in etcd["spec"]["template"]["spec"]["volumes"]


def test_etcd_probes_use_the_health_endpoint(render):
    container = named(render(values=ETCD_AND_NATS), "StatefulSet", f"{RELEASE}-etcd")["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "metrics"}
    assert container["livenessProbe"]["httpGet"]["path"] == "/health?serializable=true"


def test_etcd_auth_creates_root_user_in_a_hook_job_from_a_secret(render):
    manifests = render(values={**ETCD_AND_NATS, "global.etcd.auth.enabled": True})
    secret = named(manifests, "Secret", f"{RELEASE}-etcd-auth")
    assert len(secret["data"]["root-password"]) >= 40  # base64 of 32 random characters
    job = named(manifests, "Job", f"{RELEASE}-etcd-enable-auth")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install"
    steps = [c["args"] for c in job["spec"]["template"]["spec"]["initContainers"] + job["spec"]["template"]["spec"]["containers"]]
    assert steps[0][:2] == ["user", "add"] and steps[-1][-2:] == ["auth", "enable"]
    assert "root:$(ROOT_PASSWORD)" in steps[0]


@pytest.mark.parametrize(("delete_on_uninstall", "kept"), [(False, True), (True, False)])
def test_etcd_generated_password_outlives_uninstall_exactly_as_long_as_its_data(render, delete_on_uninstall, kept):
    manifests = render(values={**ETCD_AND_NATS, "global.etcd.auth.enabled": True,
                               "etcd.persistence.deleteOnUninstall": delete_on_uninstall})
    secret = named(manifests, "Secret", f"{RELEASE}-etcd-auth")
    assert (secret["metadata"].get("annotations", {}).get("helm.sh/resource-policy") == "keep") is kept
    nats = render(values={**ETCD_AND_NATS, "global.nats.auth.enabled": True})
    assert "annotations" not in named(nats, "Secret", f"{RELEASE}-nats-auth")["metadata"]  # guards no stored data


def test_etcd_auth_with_an_existing_secret_generates_none(render):
    manifests = render(values={**ETCD_AND_NATS, "global.etcd.auth.enabled": True, "global.etcd.auth.existingSecret": "my-etcd"})
    assert not by_kind(manifests, "Secret") or all(s["metadata"]["name"] != f"{RELEASE}-etcd-auth" for s in by_kind(manifests, "Secret"))
    job = named(manifests, "Job", f"{RELEASE}-etcd-enable-auth")
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "ROOT_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "my-etcd", "key": "root-password"}}} in env


def test_nats_runs_jetstream_on_a_pvc_with_a_js_aware_health_probe(render):
    nats = named(render(values=ETCD_AND_NATS), "StatefulSet", f"{RELEASE}-nats")
    container = nats["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz?js-enabled-only=true"
    # A survivor of a lost JetStream quorum is alive: its liveness must not ask for stream health.
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz?js-enabled-only=true"
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"client": 4222, "cluster": 6222, "monitor": 8222}
    assert nats["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"


def test_nats_auth_password_comes_from_a_secret_not_the_config(render):
    manifests = render(values={**ETCD_AND_NATS, "global.nats.auth.enabled": True})
    config = named(manifests, "ConfigMap", f"{RELEASE}-nats-config")["data"]["nats.conf"]
    secret = named(manifests, "Secret", f"{RELEASE}-nats-auth")
    assert "password: $NATS_PASSWORD" in config
    env = named(manifests, "StatefulSet", f"{RELEASE}-nats")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "NATS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": f"{RELEASE}-nats-auth", "key": "password"}}} in env
    assert secret["data"]["password"] not in config


def test_grove_install_deploys_its_operator_and_crds_and_tells_the_dynamo_operator(render):
    manifests = render(values={"global.grove.install": True}, include_crds=True)
    named(manifests, "Deployment", f"{RELEASE}-grove-operator")
    crds = {m["metadata"]["name"] for m in by_kind(manifests, "CustomResourceDefinition")}
    assert {"podcliquesets.grove.io", "podcliques.grove.io", "podgangs.scheduler.grove.io"} <= crds
    assert operator_config(manifests)["orchestrators"]["grove"] == {"enabled": True}


def test_grove_enabled_uses_an_existing_grove_without_deploying_one(render):
    manifests = render(values={"global.grove.enabled": True}, include_crds=True)
    assert not [m for m in manifests if "grove" in m["metadata"]["name"] and m["kind"] != "ClusterRole"]
    assert operator_config(manifests)["orchestrators"]["grove"] == {"enabled": True}
    rules = named(manifests, "ClusterRole", f"dynamo-system-{RELEASE}-dynamo-operator-manager")["rules"]
    assert any("grove.io" in r["apiGroups"] for r in rules)


def test_kai_install_deploys_scheduler_binder_podgrouper_and_default_queues(render):
    manifests = render(values={"global.kai-scheduler.install": True})
    deployments = {m["metadata"]["name"] for m in by_kind(manifests, "Deployment")}
    assert {f"{RELEASE}-kai-scheduler", f"{RELEASE}-kai-binder", f"{RELEASE}-kai-podgrouper"} <= deployments
    queues = {q["metadata"]["name"]: q["spec"] for q in by_kind(manifests, "Queue")}
    assert queues["dynamo"]["parentQueue"] == "dynamo-parent"
    assert operator_config(manifests)["orchestrators"]["kaiScheduler"] == {"enabled": True}


def scheduler_args(manifests):
    (container,) = named(manifests, "Deployment", f"{RELEASE}-kai-scheduler")["spec"]["template"]["spec"]["containers"]
    return container["args"]


def test_kai_scheduler_args_pass_through_and_grove_owns_stale_gangs(render):
    """Upstream's KAI chart key scheduler.args; beside the bundled Grove KAI's stale-gang eviction is
    off ("-1s"), as upstream's platform chart 1.5.0+ requires (README @ ai-dynamo/dynamo 0398ccf)."""
    alone = scheduler_args(render(values={"global.kai-scheduler.install": True,
                                          "kai-scheduler.scheduler.args": {"default-staleness-grace-period": "30s", "v": "3"}}))
    assert alone[-2:] == ["--default-staleness-grace-period=30s", "--v=3"]
    assert not any("staleness" in a for a in scheduler_args(render(values={"global.kai-scheduler.install": True})))
    with_grove = scheduler_args(render(values={"global.kai-scheduler.install": True, "global.grove.install": True}))
    assert "--default-staleness-grace-period=-1s" in with_grove


def test_snapshot_agent_is_the_only_privileged_pod_and_runs_on_gpu_nodes_only(render):
    manifests = render(values={"snapshot.enabled": True, "dynamo-operator.checkpoint.enabled": True})
    privileged = [p for p in pod_specs(manifests) if any(c.get("securityContext", {}).get("privileged") for c in p.containers())]
    assert [p.name for p in privileged] == [f"DaemonSet/{RELEASE}-snapshot-agent"]
    agent = privileged[0].spec
    assert agent["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert agent["hostPID"] is True
    host_paths = [v["hostPath"]["path"] for v in agent["volumes"] if "hostPath" in v]
    assert host_paths == ["/run/containerd/containerd.sock"]
    assert {"name": "checkpoints", "persistentVolumeClaim": {"claimName": "snapshot-pvc"}} in agent["volumes"]
    pvc = named(manifests, "PersistentVolumeClaim", "snapshot-pvc")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert operator_config(manifests)["checkpoint"] == {"enabled": True}
    # 1.6's OperatorConfiguration has no storage: the snapshot agent owns it; the settings are a workload setting.
    assert workload_settings(manifests)["checkpoint"]["storage"] == {"type": "pvc", "pvc": {"pvcName": "snapshot-pvc", "basePath": "/checkpoints", "create": False}}


def test_snapshot_on_crio_uses_the_crio_socket_and_pod_mount_mode_mounts_no_pvc(render):
    manifests = render(values={"snapshot.enabled": True, "dynamo-operator.checkpoint.enabled": True,
                               "snapshot.runtime.type": "crio", "snapshot.storage.accessMode": "podMount"})
    agent = named(manifests, "DaemonSet", f"{RELEASE}-snapshot-agent")["spec"]["template"]["spec"]
    assert [v["hostPath"]["path"] for v in agent["volumes"] if "hostPath" in v] == ["/var/run/crio/crio.sock"]
    assert not [v for v in agent["volumes"] if "persistentVolumeClaim" in v]


def test_global_image_registry_rewrites_every_image(render, everything_on):
    rewritten = images(render(values={**everything_on(), "global.imageRegistry": "mirror.example.com:5000/dynamo"}))
    assert len(rewritten) >= 8
    assert all(image.startswith("mirror.example.com:5000/dynamo/") for image in rewritten), rewritten


def test_image_defaults_are_the_projects_own_upstreams(render):
    platform = {
        "nvcr.io/nvidia/ai-dynamo/kubernetes-operator:1.6.1",
        "docker.io/curlimages/curl:8.11.1",  # helm test probes
        # The storage-migration hook: bash + kubectl at the pinned kubectl version. Kubernetes' own
        # kubectl image has no shell, and upstream's bitnami/kubectl:latest is unpinned (docs/compatibility.md).
        "docker.io/alpine/k8s:1.35.2",
    }
    assert set(images(render())) == platform
    assert set(images(render(values=ETCD_AND_NATS))) == platform | {
        "gcr.io/etcd-development/etcd:v3.5.21", "docker.io/library/nats:2.11.11-alpine"}


def test_image_digest_pins_the_image(render):
    digest = "sha256:" + "a" * 64
    assert f"gcr.io/etcd-development/etcd:v3.5.21@{digest}" in images(render(values={**ETCD_AND_NATS, "etcd.image.digest": digest}))


def test_every_image_takes_a_digest(render, everything_on):
    # The chart-wide skip of checkov's digest check (hack/checkov-skips.yaml) rests on this.
    digest = "sha256:" + "b" * 64
    keys = ["dynamo-operator.controllerManager.manager.image", "etcd.image", "nats.image", "grove.image",
            "snapshot.image", "tests.image", "lws.image", "inference-gateway.epp.image",
            "dynamo-operator.storageMigration.image"]
    values = {**everything_on(), **{f"{key}.digest": digest for key in keys},
              **{f"kai-scheduler.components.{c}.digest": digest for c in ("scheduler", "binder", "podgrouper")}}
    pinned = images(render(values=values))
    assert len(pinned) >= 8 and all(image.endswith(f"@{digest}") for image in pinned), pinned


def test_pull_secrets_reach_every_pod(render):
    manifests = render(values={**ETCD_AND_NATS, "global.imagePullSecrets": [{"name": "mirror-creds"}], "global.etcd.auth.enabled": True})
    for pod in pod_specs(manifests):
        assert {"name": "mirror-creds"} in pod.spec.get("imagePullSecrets", []), pod.name
    assert workload_settings(manifests)["imagePullSecrets"] == [{"name": "mirror-creds"}]


def test_component_node_selector_wins_over_global(render):
    manifests = render(values={**ETCD_AND_NATS, "global.nodeSelector": {"pool": "system", "zone": "a"},
                               "etcd.nodeSelector": {"pool": "etcd"}})
    etcd = named(manifests, "StatefulSet", f"{RELEASE}-etcd")["spec"]["template"]["spec"]
    nats = named(manifests, "StatefulSet", f"{RELEASE}-nats")["spec"]["template"]["spec"]
    assert etcd["nodeSelector"] == {"pool": "etcd", "zone": "a"}
    assert nats["nodeSelector"] == {"pool": "system", "zone": "a"}


def test_prometheus_endpoint_reaches_the_operator_config_and_rbac(render):
    manifests = render(values={"dynamo-operator.dynamo.metrics.prometheusEndpoint": "http://prom.monitoring:9090"})
    assert operator_config(manifests)["infrastructure"]["prometheusEndpoint"] == "http://prom.monitoring:9090"
    rules = named(manifests, "ClusterRole", f"dynamo-system-{RELEASE}-dynamo-operator-manager")["rules"]
    assert any(r["apiGroups"] == ["monitoring.coreos.com"] for r in rules)


def test_operator_exposes_health_probes_and_metrics(render):
    manifests = render(values={"dynamo-operator.serviceMonitor.enabled": True}, api_versions=["monitoring.coreos.com/v1"])
    deployment = named(manifests, "Deployment", f"{RELEASE}-dynamo-operator")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert operator_config(manifests)["leaderElection"]["enabled"] is True
    service = named(manifests, "Service", f"{RELEASE}-dynamo-operator-metrics")
    assert service["spec"]["ports"][0]["port"] == 8443
    monitor = named(manifests, "ServiceMonitor", f"{RELEASE}-dynamo-operator")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"


def test_operator_pdb_only_with_more_than_one_replica(render):
    assert not by_kind(render(), "PodDisruptionBudget") or all(
        "operator" not in p["metadata"]["name"] for p in by_kind(render(), "PodDisruptionBudget"))
    two = render(values={"dynamo-operator.controllerManager.replicas": 2})
    assert named(two, "PodDisruptionBudget", f"{RELEASE}-dynamo-operator")["spec"]["minAvailable"] == 1


CERT_MODES = {
    "generated": {},
    "cert-manager": {"dynamo-operator.webhook.certManager.enabled": True, "dynamo-operator.webhook.certManager.issuerRef.name": "ca"},
    "external": {"dynamo-operator.webhook.certificateSecret.external": True, "dynamo-operator.webhook.certificateSecret.caBundle": "Q0EK"},
}


@pytest.mark.parametrize("mode", CERT_MODES)
def test_crd_conversion_calls_the_operator_webhook_with_the_same_ca_as_its_admission_webhooks(render, mode):
    manifests = render(values=CERT_MODES[mode])
    converting = [c for c in by_kind(manifests, "CustomResourceDefinition") if len(c["spec"]["versions"]) > 1]
    assert len(converting) == 5
    (validating,) = by_kind(manifests, "ValidatingWebhookConfiguration")
    admission_ca = validating["webhooks"][0]["clientConfig"].get("caBundle")
    for crd in converting:
        webhook = crd["spec"]["conversion"]["webhook"]
        assert crd["spec"]["conversion"]["strategy"] == "Webhook"
        assert webhook["clientConfig"]["service"] == {"name": "dynamo-platform-dynamo-operator-webhook",
                                                      "namespace": "dynamo-system", "path": "/convert", "port": 443}
        assert webhook["clientConfig"].get("caBundle") == admission_ca, crd["metadata"]["name"]
        injected = crd["metadata"].get("annotations", {}).get("cert-manager.io/inject-ca-from")
        assert injected == (validating["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] if mode == "cert-manager" else None)
    if mode == "generated":
        (secret,) = [s for s in by_kind(manifests, "Secret") if s["metadata"]["name"].endswith("webhook-server-cert")]
        assert admission_ca == secret["data"]["ca.crt"]
    elif mode == "external":
        assert admission_ca == "Q0EK"
    else:
        assert admission_ca is None
