"""Certificates for the local control plane, made with the openssl CLI."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pki:
    dir: Path

    @property
    def ca(self) -> Path:
        return self.dir / "ca.crt"

    def cert(self, name: str) -> Path:
        return self.dir / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.dir / f"{name}.key"

    def create(self) -> None:
        """CA, API server serving cert (loopback only), admin client cert, service-account keys."""
        self.dir.mkdir(parents=True, exist_ok=True)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=dynamo-local-ca",
                 "-keyout", self.key("ca"), "-out", self.ca)
        self._issue("apiserver", "/CN=kube-apiserver",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc")
        self._issue("admin", "/O=system:masters/CN=dynamo-local-admin", "extendedKeyUsage=clientAuth")
        _openssl("genrsa", "-out", self.key("service-account"), "2048")
        _openssl("rsa", "-in", self.key("service-account"), "-pubout", "-out", self.dir / "service-account.pub")

    def _issue(self, name: str, subject: str, extension: str) -> None:
        csr = self.dir / f"{name}.csr"
        ext = self.dir / f"{name}.ext"
        ext.write_text(extension + "\n")
        _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", self.key(name), "-out", csr)
        _openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.key("ca"), "-CAcreateserial",
                 "-days", "30", "-extfile", ext, "-out", self.cert(name))


def _openssl(*args: object) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)
