"""A stand-in for the Dynamo operator's CRD conversion webhook, for the local cluster.

No operator process runs there (kwok simulates its pod), yet every read of a DGD in its preferred
version (v1beta1) and every write of a DGDR (stored as v1beta1) goes through the conversion
webhook. The stand-in serves the call where the API server makes it: the platform's webhook
Service address (a loopback ClusterIP on `local`), port 443, with the chart's own serving
certificate from the webhook Secret. So a call that arrives proves the CRD's Service, port, path
and caBundle are right. It maps no fields (that is the operator's job, not built here): it sets
apiVersion and keeps the object's spec and status per version in an annotation, so what was
written in one version reads back unchanged in it.
"""

from __future__ import annotations

import base64
import copy
import json
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

STASH = "conversion-standin.dynamo-platform.test/{version}"


def convert(obj: dict[str, Any], desired: str) -> dict[str, Any]:
    """obj in the desired apiVersion; the spec/status of every version it passed through are kept."""
    if obj["apiVersion"] == desired:
        return obj
    out = copy.deepcopy(obj)
    annotations = out.setdefault("metadata", {}).setdefault("annotations", {})
    current, wanted = obj["apiVersion"].split("/")[1], desired.split("/")[1]
    annotations[STASH.format(version=current)] = json.dumps({k: obj[k] for k in ("spec", "status") if k in obj})
    stashed = annotations.pop(STASH.format(version=wanted), None)
    if stashed:
        out.pop("spec", None)
        out.pop("status", None)
        out.update(json.loads(stashed))
    out["apiVersion"] = desired
    return out


class ConversionStandin:
    def __init__(self, host: str, cert_pem: bytes, key_pem: bytes, port: int = 443):
        self.calls: list[dict[str, Any]] = []  # path, desiredAPIVersion and kinds of each review
        self.refused: list[str] = []  # paths of other calls (admission reviews), answered 404
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                if self.path.split("?")[0] != "/convert":  # admission reviews are the operator's alone
                    standin.refused.append(self.path.split("?")[0])
                    self.send_error(404, "the conversion stand-in serves /convert only")
                    return
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                request = review["request"]
                standin.calls.append({"path": self.path.split("?")[0], "desiredAPIVersion": request["desiredAPIVersion"],
                                      "kinds": sorted({o["kind"] for o in request["objects"]})})
                body = json.dumps({"apiVersion": review["apiVersion"], "kind": "ConversionReview", "response": {
                    "uid": request["uid"], "result": {"status": "Success"},
                    "convertedObjects": [convert(o, request["desiredAPIVersion"]) for o in request["objects"]]}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # quiet
                pass

        self._dir = tempfile.TemporaryDirectory(prefix="conversion-standin-")
        cert, key = Path(self._dir.name, "tls.crt"), Path(self._dir.name, "tls.key")
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self._thread = threading.Thread(target=self.server.serve_forever, name="conversion-standin", daemon=True)

    @classmethod
    def for_release(cls, kubectl, namespace: str, service: str, secret: str) -> ConversionStandin:
        """Serve on the webhook Service's ClusterIP with the certificate of the release's webhook Secret."""
        host = kubectl.get("service", service, "-n", namespace)["spec"]["clusterIP"]
        data = kubectl.get("secret", secret, "-n", namespace)["data"]
        return cls(host, base64.b64decode(data["tls.crt"]), base64.b64decode(data["tls.key"]))

    def __enter__(self) -> ConversionStandin:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._dir.cleanup()
