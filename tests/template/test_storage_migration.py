"""The storage-version migration hook (dynamo-operator templates/storage-migration.yaml): a
post-install/post-upgrade Job, as upstream's, that re-writes the objects of every CRD whose
storage version moved and then drops the old version from the CRD's status.storedVersions.
What it does on a cluster is tested in tests/install/test_storage_migration_on_real_node.py."""

import pytest

from dynamo_harness.manifests import by_kind, named, pod_specs

RELEASE = "dynamo-platform"
NAME = f"{RELEASE}-dynamo-operator-storage-migration"
CLUSTER_NAME = f"dynamo-system-{NAME}"
DGDR_CRD = "dynamographdeploymentrequests.nvidia.com"
# The CRDs whose storage moved from v1alpha1 to v1beta1: DGDR at 1.3.0, DGD and DCD at 1.5.0 (in file order).
MIGRATED = {"dynamocomponentdeployments": "nvidia.com", "dynamographdeploymentrequests": "nvidia.com",
            "dynamographdeployments": "nvidia.com"}
MIGRATED_CRDS = [f"{plural}.{group}" for plural, group in MIGRATED.items()]
CERTIFICATE_MODES = {
    "generated": {},
    "cert-manager": {"dynamo-operator.webhook.certManager.enabled": True,
                     "dynamo-operator.webhook.certManager.issuerRef.name": "dynamo-ca"},
    "external": {"dynamo-operator.webhook.certificateSecret.external": True,
                 "dynamo-operator.webhook.certificateSecret.caBundle": "Y2E="},
}
MIGRATION_KINDS = {("ServiceAccount", NAME), ("ClusterRole", CLUSTER_NAME), ("ClusterRoleBinding", CLUSTER_NAME),
                   ("Job", f"{NAME}-1")}


def migration_objects(manifests):
    return {(m["kind"], m["metadata"]["name"]) for m in manifests
            if m["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "storage-migration"}


def job(manifests):
    return named(manifests, "Job", f"{NAME}-1")


def container(manifests):
    (migrate,) = job(manifests)["spec"]["template"]["spec"]["containers"]
    return migrate


def env(manifests) -> dict:
    return {e["name"]: e["value"] for e in container(manifests)["env"]}


@pytest.mark.parametrize("mode", CERTIFICATE_MODES)
def test_the_migration_hook_renders_in_every_certificate_mode(render, mode):
    # The CRDs' conversion webhook carries the chart's CA in all three modes, so the Job can run in each.
    manifests = render(values=CERTIFICATE_MODES[mode])
    assert migration_objects(manifests) == MIGRATION_KINDS
    assert named(manifests, "CustomResourceDefinition", DGDR_CRD)["spec"]["conversion"]["strategy"] == "Webhook"


def test_rbac_runs_at_weight_3_and_the_job_at_4_after_install_and_upgrade(render):
    manifests = render()
    for kind, name in MIGRATION_KINDS:
        annotations = named(manifests, kind, name)["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "post-install,post-upgrade", kind
        assert annotations["helm.sh/hook-weight"] == ("4" if kind == "Job" else "3"), kind
        # The Job's rights go once it succeeded; the Job itself stays (its logs) until the next hook or its TTL.
        policy = "before-hook-creation" if kind == "Job" else "before-hook-creation,hook-succeeded"
        assert annotations["helm.sh/hook-delete-policy"] == policy, kind
    spec = job(manifests)["spec"]
    assert spec["backoffLimit"] == 5 and spec["ttlSecondsAfterFinished"] == 86400
    assert spec["template"]["spec"]["restartPolicy"] == "Never"  # a failed attempt keeps its pod and logs


def test_rbac_is_exactly_the_migrations_needs(render):
    manifests = render()
    assert named(manifests, "ClusterRole", CLUSTER_NAME)["rules"] == [
        *({"apiGroups": [group], "resources": [plural], "verbs": ["list", "get", "update"]} for plural, group in MIGRATED.items()),
        {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions", "customresourcedefinitions/status"],
         "resourceNames": MIGRATED_CRDS, "verbs": ["get", "patch"]},
    ]
    binding = named(manifests, "ClusterRoleBinding", CLUSTER_NAME)
    assert binding["roleRef"]["name"] == CLUSTER_NAME
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": "dynamo-system"}]
    assert job(manifests)["spec"]["template"]["spec"]["serviceAccountName"] == NAME


def test_the_migrated_crds_are_those_whose_storage_version_moved(render):
    """Derived from the CRD files, not named twice: a CRD served in a version before its storage one."""
    manifests = render()
    moved = []
    for crd in by_kind(manifests, "CustomResourceDefinition"):
        versions = [v["name"] for v in crd["spec"]["versions"]]
        (storage,) = [v["name"] for v in crd["spec"]["versions"] if v["storage"]]
        if storage != versions[0]:
            moved.append(f"{crd['metadata']['name']}={storage}")
    assert sorted(moved) == [f"{crd}=v1beta1" for crd in MIGRATED_CRDS]
    assert env(manifests)["MIGRATE_CRDS"] == " ".join(moved)


def test_the_script_re_writes_through_the_storage_version_and_touches_stored_versions_only_without_errors(render):
    script = container(render())["args"][0]
    assert container(render())["command"] == ["/bin/bash", "-c"]
    assert "kubectl replace -f -" in script and "--subresource=status" in script
    # The patch comes after the per-CRD error check, and a failed list counts as a failure.
    assert script.index('if [ "$errors" -gt 0 ]') < script.index("kubectl patch crd")
    assert "cannot list" in script and 'exit "$failed"' in script


@pytest.mark.parametrize("values", [{"dynamo-operator.storageMigration.enabled": False},
                                    {"dynamo-operator.crds.enabled": False}], ids=["switched-off", "crds-owned-elsewhere"])
def test_no_migration_objects_when_off_or_when_another_release_owns_the_crds(render, values):
    assert not migration_objects(render(values=values))


def test_namespace_restricted_overlay_stays_free_of_cluster_rbac(render):
    # That overlay leaves the CRDs to the cluster-wide release, so their migration too.
    assert not migration_objects(render("namespace-restricted"))


def test_image_follows_the_chart_conventions_and_global_registry(render):
    image = {"dynamo-operator.storageMigration.image": {"registry": "docker.io", "repository": "alpine/k8s", "tag": "1.35.2",
                                                        "digest": "sha256:" + "a" * 64, "pullPolicy": "Never"}}
    migrate = container(render(values=image))
    assert migrate["image"] == "docker.io/alpine/k8s:1.35.2@sha256:" + "a" * 64
    assert migrate["imagePullPolicy"] == "Never"
    mirrored = container(render(values={"global.imageRegistry": "mirror.corp"}))
    assert mirrored["image"] == "mirror.corp/alpine/k8s:1.35.2"


def test_the_pod_is_placed_like_the_operator_plus_its_own_keys(render):
    spot = {"key": "spot", "operator": "Exists", "effect": "NoSchedule"}
    own = {"key": "dynamo-platform.test/real-node", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
    values = {"global.tolerations": [spot],
              "dynamo-operator.controllerManager.nodeSelector": {"pool": "system"},
              "dynamo-operator.imagePullSecrets": [{"name": "regcred"}],
              "dynamo-operator.storageMigration.nodeSelector": {"dynamo-platform.test/pool": "real-node"},
              "dynamo-operator.storageMigration.tolerations": [own]}
    pod = job(render(values=values))["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"pool": "system", "dynamo-platform.test/pool": "real-node"}
    assert pod["tolerations"] == [spot, own]
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]


def test_the_pod_meets_restricted_pod_security_with_a_writable_tmp_only(render):
    (pod,) = [p for p in pod_specs(render()) if p.name == f"Job/{NAME}-1"]
    assert pod.spec["securityContext"]["runAsNonRoot"] is True
    assert pod.spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    ctx = container(render())["securityContext"]
    assert ctx["readOnlyRootFilesystem"] is True and ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert container(render())["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]


@pytest.mark.parametrize(("values", "fragments"), [
    ({"dynamo-operator.storageMigration.backoffLimit": -1}, ["/dynamo-operator/storageMigration/backoffLimit", "minimum"]),
    ({"dynamo-operator.storageMigration.enabled": "yes"}, ["/dynamo-operator/storageMigration/enabled", "want boolean"]),
    ({"dynamo-operator.storageMigration.image.pullPolicy": "Sometimes"}, ["/dynamo-operator/storageMigration/image/pullPolicy"]),
    ({"dynamo-operator.storageMigration.image.repository": ""}, ["/dynamo-operator/storageMigration/image/repository"]),
    ({"dynamo-operator.storageMigration.imagee": {}}, ["/dynamo-operator/storageMigration", "'imagee' not allowed"]),
    ({"dynamo-operator.storageMigration.nodeSelector": {"pool": "has space"}},
     ["/dynamo-operator/storageMigration/nodeSelector/pool", "does not match pattern"]),
], ids=["negative-backoff", "enabled-not-boolean", "bad-pull-policy", "empty-repository", "unknown-key", "bad-node-selector"])
def test_bad_migration_values_are_refused_naming_the_key(render_error, values, fragments):
    message = render_error(values=values)
    for fragment in fragments:
        assert fragment in message, message
