"""The release path against a real OCI registry on 127.0.0.1 (the CNCF distribution registry,
hack/tools/registry): package and sign with a throw-away key, `helm push`, pull with verification
by Helm 4 and Helm 3, refuse a tampered archive, and `helm install oci://...` of the pushed chart
on the test cluster."""

from __future__ import annotations

import json
import re
import shutil
import tarfile
import uuid
from pathlib import Path

import pytest

from dynamo_harness.helm import HELM3, HELM4, Helm, HelmError, values_args
from dynamo_harness.kube import KubectlError
from dynamo_harness.paths import TOOLS_BIN
from dynamo_harness.publish import (SigningKey, chart_images, chart_version, main, package, plain_http, push,
                                    sbom_images, throwaway_signing_key, verify)

from support.registry import LocalRegistry

HELMS = pytest.mark.parametrize("binary", [HELM4, HELM3], ids=["helm4", "helm3"])


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> LocalRegistry:
    if not (TOOLS_BIN / "registry").exists():
        pytest.fail("the OCI registry is not built: run `make bootstrap-all` (hack/bootstrap.sh --with-registry)")
    running = LocalRegistry(tmp_path_factory.mktemp("registry"))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> SigningKey:
    return throwaway_signing_key(tmp_path_factory.mktemp("key"))


@pytest.fixture(scope="module")
def signed(tmp_path_factory, key) -> Path:
    return package(Helm(), tmp_path_factory.mktemp("dist"), key)


@pytest.fixture(scope="module")
def pushed(registry, signed) -> str:
    reference = push(Helm(), signed, registry.url)
    assert re.fullmatch(rf"127\.0\.0\.1:{registry.port}/charts/dynamo-platform@sha256:[0-9a-f]{{64}}", reference)
    return f"{registry.url}/dynamo-platform"


def tampered_copy(archive: Path, directory: Path) -> Path:
    """The archive with one default changed, next to the original .prov, under the same name."""
    directory.mkdir(parents=True, exist_ok=True)
    unpacked = directory / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    values = unpacked / "dynamo-platform" / "values.yaml"
    values.write_text(values.read_text().replace("enabled: false", "enabled: true", 1))
    copy = directory / archive.name
    with tarfile.open(copy, "w:gz") as tar:
        tar.add(unpacked / "dynamo-platform", arcname="dynamo-platform")
    shutil.copy(f"{archive}.prov", f"{copy}.prov")
    return copy


def pull(binary: Path, reference: str, key: SigningKey, into: Path) -> str:
    into.mkdir(parents=True, exist_ok=True)
    return Helm(binary).run("pull", reference, "--version", chart_version(), "--verify", "--keyring", str(key.public_keyring),
                            "--destination", str(into), *plain_http(reference))


def test_make_package_writes_the_archive_its_provenance_and_the_sbom(tmp_path):
    main(["package", "--out", str(tmp_path)])
    stem = f"dynamo-platform-{chart_version()}"
    assert {p.name for p in tmp_path.iterdir()} == {f"{stem}.tgz", f"{stem}.tgz.prov", f"{stem}.cdx.json", "test-key"}
    assert sbom_images(json.loads((tmp_path / f"{stem}.cdx.json").read_text())) == chart_images(Helm())
    verify(Helm(), tmp_path / f"{stem}.tgz", tmp_path / "test-key" / "pubring.gpg")


def test_package_is_versioned_and_signed(signed):
    assert signed.name == f"dynamo-platform-{chart_version()}.tgz"
    assert Path(f"{signed}.prov").read_text().startswith("-----BEGIN PGP SIGNED MESSAGE-----")


@HELMS
def test_pushed_chart_pulls_with_its_provenance_verified(binary, pushed, key, tmp_path):
    out = pull(binary, pushed, key, tmp_path)
    assert "Chart Hash Verified" in out
    assert (tmp_path / f"dynamo-platform-{chart_version()}.tgz.prov").exists()


@HELMS
def test_tampered_archive_fails_verification(binary, signed, key, tmp_path):
    with pytest.raises(HelmError, match="sha256 sum does not match"):
        verify(Helm(binary), tampered_copy(signed, tmp_path), key.public_keyring)


@HELMS
def test_archive_signed_by_another_key_fails_verification(binary, signed, tmp_path):
    stranger = throwaway_signing_key(tmp_path / "stranger")
    with pytest.raises(HelmError, match="unknown entity"):
        verify(Helm(binary), signed, stranger.public_keyring)


def test_tampered_archive_pushed_to_the_registry_fails_pull_verify(registry, signed, key, tmp_path):
    tampered = tampered_copy(signed, tmp_path / "tampered")
    repository = f"{registry.url}/tampered"
    push(Helm(), tampered, repository)
    with pytest.raises(HelmError, match="sha256 sum does not match"):
        pull(HELM4, f"{repository}/dynamo-platform", key, tmp_path / "pulled")


def test_helm_install_from_the_oci_registry_verifies_and_deploys(cluster, cluster_helm, kubectl, platform, pushed, key):
    """As the install fixture does: a fresh namespace, the CRDs left to the session's platform release,
    the cluster's own values (kind: its local images and simulated nodes)."""
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    kubectl.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}])
    cluster.prepare_install()
    try:
        cluster_helm.run("install", "dynamo-platform", pushed, "--version", chart_version(), *plain_http(pushed),
                         "--verify", "--keyring", str(key.public_keyring),
                         "--namespace", namespace,
                         *values_args(None, {"dynamo-operator.crds.enabled": False, **cluster.install_values()}),
                         "--wait", "--timeout", "120s")
        (release,) = json.loads(cluster_helm.run("list", "--namespace", namespace, "--output", "json"))
        assert (release["status"], release["chart"]) == ("deployed", f"dynamo-platform-{chart_version()}")
        deployments = kubectl.items("deployments", "-n", namespace)
        assert deployments and all(d["status"].get("readyReplicas") == d["spec"]["replicas"] for d in deployments)
    finally:
        try:
            cluster_helm.run("uninstall", "dynamo-platform", "--namespace", namespace)
        except HelmError:
            pass  # the install failed before a release existed
        try:
            kubectl.run("delete", "namespace", namespace, "--wait=false")
        except KubectlError:
            pass
