"""Bad input fails at template time with a message that names the key and the fix."""

import pytest

from dynamo_harness.helm import ETCD_AND_NATS

CASES = [
    # (id, overlay, values, fragments the message must contain)
    ("unknown-key", None, {"etcd.replicaz": 3}, ["/etcd", "additional properties 'replicaz' not allowed"]),
    ("unknown-top-level-key", None, {"ectd": {"replicas": 3}}, ["additional properties 'ectd' not allowed"]),
    ("unknown-global-key", None, {"global.tolerationz": []}, ["/global", "'tolerationz' not allowed"]),
    ("wrong-type", None, {"etcd.replicas": "three"}, ["/etcd/replicas", "got string, want integer"]),
    ("negative-replicas", None, {"nats.replicas": -1}, ["/nats/replicas", "minimum"]),
    ("bad-enum", None, {"dynamo-operator.webhook.failurePolicy": "Sometimes"}, ["/dynamo-operator/webhook/failurePolicy", "Fail", "Ignore"]),
    ("bad-quantity", None, {"etcd.persistence.size": "8 gigs"}, ["/etcd/persistence/size", "does not match pattern"]),
    # Helm reads null as "delete the key"; without required defaults the template met nil.
    ("null-deletes-a-default", None, {**ETCD_AND_NATS, "nats.jetstream.enabled": None}, ["/jetstream", "missing property 'enabled'"]),
    ("null-deletes-a-global-default", None, {"global.etcd.tls": None}, ["/global/etcd", "missing property 'tls'"]),
    ("zero-pvc-size", None, {"nats.jetstream.fileStore.size": "0"}, ["/nats/jetstream/fileStore/size", "does not match pattern"]),
    ("bad-node-selector-key", None, {"global.nodeSelector": {"gpu pool": "a"}}, ["invalid propertyName 'gpu pool'", "does not match pattern"]),
    ("bad-node-selector-value", None, {"etcd.nodeSelector": {"pool": "has space"}}, ["/etcd/nodeSelector/pool", "does not match pattern"]),
    ("toleration-exists-with-value", None, {"global.tolerations": [{"key": "spot", "operator": "Exists", "value": "true"}]},
     ["/global/tolerations/0/value", "value must be ''"]),
    ("bad-cpu-quantity", None, {"nats.resources": {"requests": {"cpu": "two"}}}, ["/nats/resources/requests/cpu"]),
    ("bad-api-server-cidr", None, {"global.networkPolicy.apiServerCIDRs": ["10.0.0.0/33"]}, ["/global/networkPolicy/apiServerCIDRs/0"]),
    ("external-nats-tls-without-secret", None,
     {"global.nats.install": False, "dynamo-operator.dynamo.nats.url": "tls://nats.corp:4222", "global.nats.tls.enabled": True},
     ["global.nats.tls.enabled=true with global.nats.install=false needs global.nats.tls.existingSecret"]),
    ("bad-digest", None, {"nats.image.digest": "latest"}, ["/nats/image/digest"]),
    ("etcd-two-members", None, {**ETCD_AND_NATS, "etcd.replicas": 2}, ["etcd.replicas=2", "odd number >= 3"]),
    ("nats-two-servers", None, {**ETCD_AND_NATS, "nats.replicas": 2}, ["nats.replicas=2", ">= 3"]),
    ("grove-install-and-enabled", None, {"global.grove.install": True, "global.grove.enabled": True},
     ["global.grove.install and global.grove.enabled are both true"]),
    ("kai-install-and-enabled", None, {"global.kai-scheduler.install": True, "global.kai-scheduler.enabled": True},
     ["global.kai-scheduler.install and global.kai-scheduler.enabled are both true"]),
    # Upstream's platform chart (1.5.0 and later) refuses KAI's own stale-gang eviction beside the bundled Grove.
    ("kai-staleness-beside-bundled-grove", None,
     {"global.grove.install": True, "global.kai-scheduler.install": True,
      "kai-scheduler.scheduler.args.default-staleness-grace-period": "60s"},
     ["kai-scheduler.scheduler.args.default-staleness-grace-period=60s", "global.grove.install=true", '"-1s"']),
    ("kai-args-scheduler-name", None, {"global.kai-scheduler.install": True, "kai-scheduler.scheduler.args.scheduler-name": "x"},
     ["kai-scheduler.scheduler.args.scheduler-name", "kai-scheduler.schedulerName instead"]),
    ("kai-args-bad-flag-name", None, {"global.kai-scheduler.install": True, "kai-scheduler.scheduler.args": {"--v": "3"}},
     ["invalid propertyName '--v'", "does not match pattern"]),
    ("restricted-with-bundled-grove", "namespace-restricted", {"global.grove.install": True},
     ["namespaceRestriction.enabled=true cannot be combined with global.grove.install=true", "global.grove.enabled=true instead"]),
    ("restricted-with-bundled-kai", "namespace-restricted", {"global.kai-scheduler.install": True},
     ["global.kai-scheduler.install=true", "global.kai-scheduler.enabled=true instead"]),
    ("restricted-bad-target-namespace", None, {"dynamo-operator.namespaceRestriction.targetNamespace": "Team_A"},
     ["/dynamo-operator/namespaceRestriction/targetNamespace"]),
    ("etcd-discovery-without-etcd", None, {"global.etcd.install": False, "dynamo-operator.dynamo.discoveryBackend": "etcd"},
     ["discoveryBackend=etcd needs etcd", "global.etcd.install=true"]),
    ("cert-manager-without-issuer", None, {"dynamo-operator.webhook.certManager.enabled": True},
     ["certManager.issuerRef.name"]),
    ("cert-manager-and-external", None, {"dynamo-operator.webhook.certManager.enabled": True,
                                         "dynamo-operator.webhook.certManager.issuerRef.name": "x",
                                         "dynamo-operator.webhook.certificateSecret.external": True},
     ["certManager.enabled and certificateSecret.external are both true"]),
    ("external-cert-without-ca", None, {"dynamo-operator.webhook.certificateSecret.external": True},
     ["certificateSecret.caBundle"]),
    ("snapshot-without-checkpoint", None, {"snapshot.enabled": True}, ["dynamo-operator.checkpoint.enabled=true"]),
    ("snapshot-pvc-mismatch", None, {"snapshot.enabled": True, "dynamo-operator.checkpoint.enabled": True,
                                     "snapshot.storage.pvc.name": "other"}, ["must name the same checkpoint PVC"]),
    ("many-operators-without-leader-election", None, {"dynamo-operator.controllerManager.replicas": 2,
                                                      "dynamo-operator.controllerManager.leaderElection.enabled": False},
     ["leaderElection.enabled=true"]),
    # Upstream's operator refuses a config without an MPI SSH Secret name.
    ("empty-mpi-secret-name", None, {"dynamo-operator.dynamo.mpiRun.secretName": ""},
     ["/dynamo-operator/dynamo/mpiRun/secretName", "does not match pattern"]),
    ("helm-test-inference-without-model", None, {"tests.inference.endpoint": "http://frontend:8000"},
     ["tests.inference.model is empty"]),
    ("toleration-typo", "aks-spot", {"global.tolerations": [{"key": "k", "efect": "NoSchedule"}]},
     ["/global/tolerations/0", "'efect' not allowed"]),
]


@pytest.mark.parametrize(("overlay", "values", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_values_fail_with_a_clear_message(render_error, overlay, values, fragments):
    message = render_error(overlay, values)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
