"""Property: any values either fail at template time with a schema or `fail` message naming the
problem, or render manifests the API server accepts (server-side dry run). Never a broken render.

Hypothesis draws values over the keys users set most: a set of valid settings, and in about a
third of the cases one key replaced by an invalid value, so each invalid input is tried on its
own. CI replays a fixed (derandomized) set; `HYPOTHESIS_PROFILE=explore` draws new cases.
"""

import re

import yaml
from hypothesis import given
from hypothesis import strategies as st

from dynamo_harness.helm import HelmError

PRIORITY_CLASS = "dynamo-fuzz-high"
TEAM_NAMESPACE = "dynamo-fuzz-team"  # the target of a namespace-restricted operator
ALLOWED_ERRORS = re.compile(r"values don't meet the specifications of the schema|execution error at \(")


def toleration(keys, operators, values, effects):
    return st.fixed_dictionaries({"key": st.sampled_from(keys), "operator": st.sampled_from(operators)},
                                 optional={"value": st.sampled_from(values), "effect": st.sampled_from(effects)})


VALID_SIZES = ["1Gi", "8Gi", "500Mi", "10", "1.5Gi", "0.5Gi"]
# key: (valid values, invalid values)
KEYS = {
    "etcd.replicas": (st.sampled_from([1, 3, 5]), st.sampled_from([-1, 0, 2, 10])),
    "nats.replicas": (st.sampled_from([1, 3]), st.sampled_from([0, 2, 11])),
    "dynamo-operator.controllerManager.replicas": (st.integers(1, 3), st.sampled_from([0, 6])),
    "dynamo-operator.controllerManager.leaderElection.enabled": (st.booleans(), st.just("yes")),
    "etcd.persistence.enabled": (st.booleans(), st.just(1)),
    "etcd.persistence.size": (st.sampled_from(VALID_SIZES), st.sampled_from(["0", "abc", "-1Gi", "1GB", " 1Gi", "0Mi"])),
    "etcd.persistence.deleteOnUninstall": (st.booleans(), st.just("true")),
    "nats.jetstream.enabled": (st.booleans(), st.none()),
    "nats.jetstream.fileStore.enabled": (st.booleans(), st.just("off")),
    "nats.jetstream.fileStore.size": (st.sampled_from(VALID_SIZES), st.sampled_from(["0", "1e3", "10 Gi"])),
    "nats.jetstream.maxMemoryStore": (st.sampled_from(["256Mi", "1Gi"]), st.sampled_from(["lots", "-1"])),
    "nats.maxPayload": (st.integers(1024, 67108864), st.sampled_from([-1, 0, 100_000_000])),
    "etcd.quotaBackendBytes": (st.integers(104857600, 8589934592), st.sampled_from([0, 10_000_000_000])),
    "etcd.resources": (
        st.fixed_dictionaries({"requests": st.fixed_dictionaries({"cpu": st.sampled_from(["100m", "1", "0.5", 2])}),
                               "limits": st.fixed_dictionaries({"memory": st.sampled_from(["1Gi", "512Mi"])})}),
        st.sampled_from([{"requests": {"cpu": "abc"}}, {"limits": {"memory": "1.2.3"}}, {"requests": {"cpu": -1}}])),
    "global.nodeSelector": (
        st.dictionaries(st.sampled_from(["pool", "kubernetes.io/os", "node.kubernetes.io/instance-type"]),
                        st.sampled_from(["gpu", "linux", "a.b-c_d", ""]), max_size=2),
        st.sampled_from([{"bad key": "x"}, {"a/b/c": "x"}, {"pool": "has space"}, {"pool": "y" * 64}, {"-edge": "x"}])),
    "global.tolerations": (
        st.lists(toleration(["nvidia.com/gpu", "kubernetes.azure.com/scalesetpriority"], ["Equal"], ["spot", "present"],
                            ["NoSchedule", "NoExecute", ""]), max_size=2),
        st.lists(toleration(["bad key"], ["Maybe"], ["has space"], ["Sometimes"]), min_size=1, max_size=1)),
    "global.priorityClassName": (st.sampled_from(["", PRIORITY_CLASS]), st.sampled_from(["Bad_Name", "x" * 300])),
    "global.imageRegistry": (st.sampled_from(["", "mirror.corp:5000", "mirror.corp/dynamo"]),
                             st.sampled_from(["bad registry", "https://mirror"])),
    "global.clusterDomain": (st.sampled_from(["cluster.local", "corp.internal"]), st.sampled_from(["Bad_Domain", ""])),
    "global.etcd.install": (st.booleans(), st.just("no")),
    "global.nats.install": (st.booleans(), st.just("no")),
    "global.etcd.auth.enabled": (st.booleans(), st.just("on")),
    "global.etcd.tls.enabled": (st.booleans(), st.just(0)),
    "global.etcd.tls.clientCertAuth": (st.booleans(), st.just("mtls")),
    "global.nats.auth.enabled": (st.booleans(), st.just([])),
    "global.nats.auth.user": (st.sampled_from(["dynamo", "svc.dynamo"]), st.sampled_from(["", "two words"])),
    "global.nats.tls.enabled": (st.booleans(), st.just({})),
    "global.networkPolicy.enabled": (st.booleans(), st.just("maybe")),
    "global.networkPolicy.apiServerCIDRs": (st.lists(st.sampled_from(["10.0.0.0/16", "fd00::/64", "172.16.0.1/32"]), max_size=2),
                                            st.lists(st.sampled_from(["not-a-cidr", "300.1.1.1/8", "10.0.0.0/33"]), min_size=1, max_size=1)),
    "dynamo-operator.dynamo.discoveryBackend": (st.sampled_from(["kubernetes", "etcd"]), st.just("zookeeper")),
    "dynamo-operator.dynamo.hfTokenSecret": (st.sampled_from(["", "hf-token-secret"]), st.sampled_from(["HF Token", "a/b"])),
    "dynamo-operator.webhook.timeoutSeconds": (st.integers(1, 30), st.sampled_from([-5, 0, 31])),
    "dynamo-operator.webhook.failurePolicy": (st.sampled_from(["Fail", "Ignore"]), st.just("Maybe")),
    "dynamo-operator.namespaceRestriction.enabled": (st.booleans(), st.just("restricted")),
    "dynamo-operator.namespaceRestriction.targetNamespace": (st.sampled_from(["", TEAM_NAMESPACE]), st.sampled_from(["Team_A", "a" * 64])),
}
VALID = st.fixed_dictionaries({}, optional={key: valid for key, (valid, _) in KEYS.items()})
ONE_INVALID = st.sampled_from(sorted(KEYS)).flatmap(lambda key: KEYS[key][1].map(lambda bad: {key: bad}))
VALUES = st.builds(lambda valid, invalid: {**valid, **invalid}, VALID, st.one_of(st.just({}), st.just({}), ONE_INVALID))


def test_values_render_acceptable_manifests_or_fail_clearly(cluster_helm, kubectl, schema_only_namespace):
    # What the valid choices name exists, as it would on a real cluster.
    kubectl.apply([{"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": PRIORITY_CLASS}, "value": 1000},
                   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": TEAM_NAMESPACE}}])
    outcomes = {"rejected at template time": 0, "accepted by the API server": 0}

    @given(values=VALUES)
    def check(values):
        try:
            rendered = cluster_helm.template(values={"dynamo-operator.crds.enabled": False, **values},
                                             release="fuzz", namespace=schema_only_namespace)
        except HelmError as err:
            assert ALLOWED_ERRORS.search(err.stderr), f"unclear template error for {values}:\n{err.stderr}"
            outcomes["rejected at template time"] += 1
            return
        # Every object names its namespace (a template test checks it), so none is forced here.
        kubectl.run("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump_all(rendered))
        outcomes["accepted by the API server"] += 1

    check()
    print(f"values fuzz: {outcomes}")
    assert all(outcomes.values()), f"the strategy never reached one of the outcomes: {outcomes}"
