"""A stand-in for the Dynamo operator's CRD conversion webhook, for the local cluster.

`make up` runs it as a process (`python -m dynamo_harness.clusters.conversion_standin`) and the
install tests in-process, where they also read which calls it got.

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

import argparse
import base64
import copy
import json
import ssl
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..kube import wait_for
from ..kube_api import CRD, SECRET, SERVICE, KubeApi, KubeApiError

STASH = "conversion-standin.dynamo-platform.test/{version}"
STANDIN_PORT = 9443  # with the real node: the endpoint port kube-proxy forwards the Service's 443 to


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
        # Names of objects to refuse converting, as an operator refuses one it cannot convert (a
        # test's failure case); set and cleared by the test.
        self.refuse: set[str] = set()
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
                refused = sorted({o["metadata"]["name"] for o in request["objects"]} & standin.refuse)
                if refused:
                    response = {"uid": request["uid"], "result": {
                        "status": "Failure", "message": f"the conversion stand-in was told to refuse {', '.join(refused)}"}}
                else:
                    response = {"uid": request["uid"], "result": {"status": "Success"},
                                "convertedObjects": [convert(o, request["desiredAPIVersion"]) for o in request["objects"]]}
                body = json.dumps({"apiVersion": review["apiVersion"], "kind": "ConversionReview", "response": response}).encode()
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
    def for_release(cls, api: KubeApi, namespace: str, service: str, secret: str, node_ip: str | None = None) -> ConversionStandin:
        """Serve the webhook Service with the certificate of the release's webhook Secret.

        kwok-only, Service IPs are loopback addresses: listen on the ClusterIP itself, port 443.
        With the real node, kube-proxy routes the ClusterIP to the Service's endpoints: listen on
        the node's address (the host end of its bridge) and add it as an endpoint of the Service
        (an EndpointSlice of our own beside the controller's, which finds no pod with a real IP).
        """
        data = api.get(SECRET, secret, namespace)["data"]
        cert, key = base64.b64decode(data["tls.crt"]), base64.b64decode(data["tls.key"])
        if node_ip is None:
            return cls(api.get(SERVICE, service, namespace)["spec"]["clusterIP"], cert, key)
        standin = cls(node_ip, cert, key, port=STANDIN_PORT)
        api.apply([{
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{service}-conversion-standin", "namespace": namespace,
                         "labels": {"kubernetes.io/service-name": service,
                                    "endpointslice.kubernetes.io/managed-by": "conversion-standin.dynamo-platform.test"}},
            "addressType": "IPv4",
            "ports": [{"name": "webhook", "port": STANDIN_PORT, "protocol": "TCP"}],
            "endpoints": [{"addresses": [node_ip], "conditions": {"ready": True}}],
        }])
        return standin

    def wait_reached(self, api: KubeApi, namespace: str, timeout: float = 60) -> None:
        """Until the API server's own webhook calls reach the stand-in. With an endpoint of our own,
        kube-proxy programs it some time after the EndpointSlice is written, and until then the
        Service refuses connections (a slow CI machine lost that race). The probe is a server-side
        dry run of a v1alpha1 DGD (nothing is written): the API server calls the Service for its
        admission or conversion, whichever comes first, and any call that arrives proves the route.
        The probe's calls are then forgotten: `calls` and `refused` are the callers' to read."""
        probe = {"apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeployment",
                 "metadata": {"name": "conversion-standin-probe", "namespace": namespace}, "spec": {"services": {}}}

        def reached() -> bool:
            try:
                api.apply([probe], dry_run=True)
            except KubeApiError:
                pass  # not reached yet, or reached and refused (the stand-in answers no admission review)
            return bool(self.calls or self.refused)

        wait_for(reached, "the API server's webhook calls to reach the conversion stand-in", timeout)
        self.calls.clear()
        self.refused.clear()

    @property
    def address(self) -> tuple[str, int]:
        return self.server.server_address[:2]

    def __enter__(self) -> ConversionStandin:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._dir.cleanup()


def crd_webhook_service(api: KubeApi) -> tuple[str, str]:
    """(namespace, name) of the Service the Dynamo CRDs send conversion reviews to."""
    crd = api.get(CRD, "dynamographdeployments.nvidia.com")
    service = crd["spec"]["conversion"]["webhook"]["clientConfig"]["service"]
    return service["namespace"], service["name"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dynamo_harness.clusters.conversion_standin", description=__doc__)
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--secret", required=True, help="the release's webhook serving-certificate Secret")
    parser.add_argument("--node-ip", help="with the real node: listen here and add it as the Service's endpoint")
    args = parser.parse_args(argv)
    api = KubeApi(args.kubeconfig)
    namespace, service = crd_webhook_service(api)
    with ConversionStandin.for_release(api, namespace, service, args.secret, args.node_ip) as standin:
        standin.wait_reached(api, namespace)
        print(f"conversion stand-in for {namespace}/{service} on {standin.address[0]}:{standin.address[1]}", flush=True)
        threading.Event().wait()  # serves until stopped (SIGTERM)
    return 0


if __name__ == "__main__":
    sys.exit(main())
