"""Release artifacts of the chart: the versioned archive with its provenance, the SBOM of every
image the chart can deploy, and the push to an OCI registry. `make package` / `make publish` and
.github/workflows/release.yaml run this; tests/install/test_release.py runs it against a real
registry (the CNCF distribution registry, built by `hack/bootstrap.sh --with-registry`, run by
tests/support/registry.py).

Provenance is Helm's own (`helm package --sign`, an OpenPGP key; `helm verify`), which Helm 3
and Helm 4 both check. CI adds a cosign keyless signature of the OCI artifact on top.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from .helm import EVERYTHING_ON, Helm
from .manifests import images
from .paths import CHART, ROOT, chart_metadata

DIST = ROOT / "dist"
TEST_KEY_NAME = "dynamo-platform test signing key"


def chart_version(chart: Path = CHART) -> str:
    return chart_metadata(chart)["version"]


def changelog_changes(version: str, changelog: Path = CHART / "CHANGELOG.md") -> list[dict[str, str]]:
    """The CHANGELOG.md entries of one chart version ("- Added: ..."), as Artifact Hub's
    artifacthub.io/changes list: the changelog is the one place the changes are written."""
    section = changelog.read_text().split(f"\n## {version}\n", 1)[1].split("\n## ", 1)[0]
    entries = re.findall(r"^- (\w+): (.+)$", section, re.M)
    return [{"kind": kind.lower(), "description": text} for kind, text in entries]


def chart_images(helm: Helm) -> list[str]:
    """Every image reference the chart renders with every component on, sorted, once each."""
    return sorted(set(images(helm.template(values=EVERYTHING_ON))))


def sbom(image_refs: list[str], version: str) -> dict:
    """A CycloneDX 1.5 SBOM: the chart as the described component, each image a container it deploys."""
    chart_ref = f"pkg:helm/dynamo-platform@{version}"
    components = [container_component(ref) for ref in image_refs]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "application", "bom-ref": chart_ref, "name": "dynamo-platform",
                                   "version": version, "purl": chart_ref}},
        "components": components,
        "dependencies": [{"ref": chart_ref, "dependsOn": [c["bom-ref"] for c in components]}],
    }


def container_component(ref: str) -> dict:
    """CycloneDX component of one image reference, with its purl (pkg:oci, tag and registry as qualifiers)."""
    name_tag, _, digest = ref.partition("@")
    repository, tag = name_tag, ""
    if ":" in name_tag.rsplit("/", 1)[-1]:
        repository, tag = name_tag.rsplit(":", 1)
    purl = f"pkg:oci/{repository.rsplit('/', 1)[-1]}{'@' + digest.replace(':', '%3A') if digest else ''}"
    purl += f"?repository_url={repository}" + (f"&tag={tag}" if tag else "")
    return {"type": "container", "bom-ref": ref, "name": repository, "version": tag or digest, "purl": purl}


def sbom_images(document: dict) -> list[str]:
    return sorted(c["bom-ref"] for c in document["components"] if c["type"] == "container")


@dataclass
class SigningKey:
    """An OpenPGP key for `helm package --sign`: Helm reads legacy (non-keybox) keyring files."""

    name: str
    secret_keyring: Path
    public_keyring: Path


def throwaway_signing_key(directory: Path) -> SigningKey:
    """A throw-away key made on the spot (never a committed secret), for local packages and tests.

    RSA: Helm 3 reads keyrings with golang.org/x/crypto/openpgp, which rejects EdDSA keys
    ("unsupported feature: public key type: 22"); Helm 4 reads both.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gnupg-") as home:
        gpg = ["gpg", "--homedir", home, "--batch", "--quiet"]
        try:
            subprocess.run([*gpg, "--pinentry-mode", "loopback", "--passphrase", "",
                            "--quick-gen-key", f"{TEST_KEY_NAME} <test@localhost>", "rsa3072", "sign", "1d"],
                           check=True, capture_output=True)
            key = SigningKey(TEST_KEY_NAME, directory / "secring.gpg", directory / "pubring.gpg")
            key.secret_keyring.write_bytes(subprocess.run([*gpg, "--export-secret-keys"], check=True, capture_output=True).stdout)
            key.public_keyring.write_bytes(subprocess.run([*gpg, "--export"], check=True, capture_output=True).stdout)
        finally:  # gpg started an agent for this home: stop it with the home
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False, capture_output=True)
    return key


def package(helm: Helm, out: Path, key: SigningKey | None) -> Path:
    """`helm package` into out/ (signed: a .prov next to the archive); returns the archive."""
    out.mkdir(parents=True, exist_ok=True)
    args = ["package", str(CHART), "--destination", str(out)]
    if key:
        args += ["--sign", "--key", key.name, "--keyring", str(key.secret_keyring)]
    helm.run(*args)
    return out / f"dynamo-platform-{chart_version()}.tgz"


def verify(helm: Helm, archive: Path, public_keyring: Path) -> str:
    """`helm verify`: raises HelmError when the archive does not match its .prov or the key."""
    return helm.run("verify", str(archive), "--keyring", str(public_keyring))


def plain_http(registry: str) -> list[str]:
    """A registry on loopback speaks plain HTTP (the local one of the tests)."""
    return ["--plain-http"] if registry.startswith(("oci://127.0.0.1", "oci://localhost")) else []


def push(helm: Helm, archive: Path, registry: str) -> str:
    """`helm push` of the archive (its .prov goes along as a layer) to oci://...; returns the
    pushed artifact as <registry path>/<chart>@<digest>, the reference cosign signs."""
    out = helm.run("push", str(archive), registry, *plain_http(registry), with_stderr=True)
    digest = re.search(r"Digest: (sha256:[0-9a-f]{64})", out)
    if not digest:
        raise RuntimeError(f"helm push printed no digest:\n{out}")
    return f"{registry.removeprefix('oci://')}/dynamo-platform@{digest[1]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dynamo_harness.publish", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    pack = commands.add_parser("package", help="signed archive + .prov + SBOM in --out")
    pack.add_argument("--out", type=Path, default=DIST)
    pack.add_argument("--key", help="signing key name in --keyring; without it a throw-away test key signs")
    pack.add_argument("--keyring", type=Path, help="secret keyring (legacy format: gpg --export-secret-keys)")
    pack.add_argument("--unsigned", action="store_true", help="no .prov (CI without a Helm key: cosign signs instead)")
    commands.add_parser("images", help="print every image the chart can deploy")
    commands.add_parser("changes", help="print the artifacthub.io/changes of this version, from CHANGELOG.md")
    send = commands.add_parser("push", help="helm push the packaged archive to REGISTRY (oci://...)")
    send.add_argument("registry")
    send.add_argument("--out", type=Path, default=DIST)
    args = parser.parse_args(argv)
    helm = Helm()
    if args.command == "images":
        print("\n".join(chart_images(helm)))
    elif args.command == "changes":
        print(yaml.safe_dump(changelog_changes(chart_version()), sort_keys=False, width=1000), end="")
    elif args.command == "package":
        if args.unsigned:
            key = None
        elif args.key and args.keyring:
            key = SigningKey(args.key, args.keyring, args.keyring)
        else:
            print("package: no --key/--keyring given, signing with a throw-away test key", file=sys.stderr)
            shutil.rmtree(args.out / "test-key", ignore_errors=True)
            key = throwaway_signing_key(args.out / "test-key")
        archive = package(helm, args.out, key)
        document = sbom(chart_images(helm), chart_version())
        (args.out / f"{archive.name.removesuffix('.tgz')}.cdx.json").write_text(json.dumps(document, indent=2) + "\n")
        print(archive)
    else:
        print(push(helm, args.out / f"dynamo-platform-{chart_version()}.tgz", args.registry))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
