"""A route from pods on the local cluster's real node to the API server: a component of the real
node (real_node.py starts it with `python -m dynamo_harness.clusters.apiserver_relay`), because the
pods that Kubernetes discovery wires (Dynamo frontend and workers) and the storage-migration hook
Job call the API server from inside the cluster.

The API server listens on 127.0.0.1 only, and with `--endpoint-reconciler-type=none` the
`kubernetes` Service has no endpoints. This relays TCP (TLS stays end to end, so the pod checks
the API server's own certificate, which carries the Service IP) from the node's address on its
bridge to the API server, and publishes that address as the `kubernetes` Service's endpoint: what
kube-proxy routes the Service IP a pod dials (KUBERNETES_SERVICE_HOST) to. On exit the endpoint
is removed and the relay stops.
"""

from __future__ import annotations

import socket
import threading

from ..kube import Kubectl, KubectlError

RELAY_PORT = 6443
ENDPOINT_SLICE = "kubernetes-apiserver-relay"


class ApiServerRelay:
    def __init__(self, kubectl: Kubectl, listen_host: str, apiserver_port: int, port: int = RELAY_PORT):
        self.kubectl = kubectl
        self.target = ("127.0.0.1", apiserver_port)
        self.server = socket.create_server((listen_host, port))
        self.address = self.server.getsockname()[:2]
        self.connections = 0  # relayed connections, so a test can tell the pod came this way
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="apiserver-relay", daemon=True)

    def __enter__(self) -> ApiServerRelay:
        self._thread.start()
        host, port = self.address
        self.kubectl.apply([{
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": ENDPOINT_SLICE, "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "kubernetes",
                                    "endpointslice.kubernetes.io/managed-by": "apiserver-relay.dynamo-platform.test"}},
            "addressType": "IPv4",
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
            "endpoints": [{"addresses": [host], "conditions": {"ready": True}}],
        }])
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.kubectl.run("delete", "endpointslice", ENDPOINT_SLICE, "-n", "default", "--ignore-not-found")
        except KubectlError:
            pass  # the cluster went first
        self._stop.set()
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the accept loop
        except OSError:
            pass
        self.server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            self.connections += 1
            print(f"relayed connection {self.connections}", flush=True)  # the node's log: tests count these
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(source, sink), daemon=True).start()


def pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy one direction of a relayed connection until either side closes, then close both."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def main() -> None:
    import argparse
    import signal

    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m dynamo_harness.clusters.apiserver_relay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubeconfig", type=Path, required=True, help="a kubeconfig allowed to write EndpointSlices in default")
    parser.add_argument("--listen", required=True, help="the node's address on its bridge")
    parser.add_argument("--apiserver-port", type=int, required=True, help="the API server's port on 127.0.0.1")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with ApiServerRelay(Kubectl(args.kubeconfig), args.listen, args.apiserver_port) as relay:
        print(f"relaying {relay.address[0]}:{relay.address[1]} -> 127.0.0.1:{args.apiserver_port}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
