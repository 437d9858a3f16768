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

    def create(self, service_ips: tuple[str, ...] = ()) -> None:
        """CA, API server serving cert (loopback, and the `kubernetes` Service IPs pods dial), admin
        client cert, service-account keys."""
        self.dir.mkdir(parents=True, exist_ok=True)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=dynamo-local-ca",
                 "-keyout", self.key("ca"), "-out", self.ca)
        self._issue("apiserver", "/CN=kube-apiserver",
                    "subjectAltName=IP:127.0.0.1," + "".join(f"IP:{ip}," for ip in service_ips)
                    + "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc")
        self._issue("admin", "/O=system:masters/CN=dynamo-local-admin", "extendedKeyUsage=clientAuth")
        _openssl("genrsa", "-out", self.key("service-account"), "2048")
        _openssl("rsa", "-in", self.key("service-account"), "-pubout", "-out", self.dir / "service-account.pub")

    def create_node(self, node_name: str, node_ip: str) -> None:
        """Certificates of the real node: the kubelet's serving cert (its node IP) and its client
        cert (Node authorizer), the API server's client cert for the kubelet, and the client certs
        of kube-proxy and CoreDNS (bound to their RBAC roles by user name)."""
        self._issue("kubelet", f"/CN={node_name}", f"subjectAltName=IP:{node_ip},DNS:{node_name}")
        self._issue("kubelet-client", f"/O=system:nodes/CN=system:node:{node_name}", "extendedKeyUsage=clientAuth")
        self._issue("apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client",
                    "extendedKeyUsage=clientAuth")
        self._issue("kube-proxy", "/CN=system:kube-proxy", "extendedKeyUsage=clientAuth")
        self._issue("coredns", "/CN=system:coredns", "extendedKeyUsage=clientAuth")

    def kubeconfig(self, server: str, user: str) -> dict:
        """A kubeconfig for `server` that authenticates with the client cert named `user`."""
        return {
            "apiVersion": "v1", "kind": "Config", "current-context": "local",
            "clusters": [{"name": "local", "cluster": {"server": server, "certificate-authority": str(self.ca)}}],
            "users": [{"name": user, "user": {"client-certificate": str(self.cert(user)), "client-key": str(self.key(user))}}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": user}}],
        }

    def _issue(self, name: str, subject: str, extension: str) -> None:
        csr = self.dir / f"{name}.csr"
        ext = self.dir / f"{name}.ext"
        ext.write_text(extension + "\n")
        _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", self.key(name), "-out", csr)
        _openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.key("ca"), "-CAcreateserial",
                 "-days", "30", "-extfile", ext, "-out", self.cert(name))


def _openssl(*args: object) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)
