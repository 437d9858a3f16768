"""The operator/metrics probe scrapes as Prometheus does: HTTPS and a bearer token.

The manager (controller-runtime secure serving) refuses a request without a valid token with 401
and a token whose ServiceAccount may not `get` /metrics with 403. The real operator cannot run
here (no image can be built), so a stand-in on 127.0.0.1 answers the same way: HTTPS with a
throwaway self-signed certificate (openssl), as the manager's own in-memory one is.
"""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading

import pytest

from dynamo_harness.conformance import health
from dynamo_harness.results import Status

ALLOWED = "token-of-a-metrics-reader"
NOT_ALLOWED = "token-of-another-account"


class OperatorMetricsStandIn(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        self.requests.append(self.path)
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        status, body = {ALLOWED: (200, "# TYPE dynamo_operator_reconcile_total counter\ndynamo_operator_reconcile_total 3\n"),
                        NOT_ALLOWED: (403, "Forbidden")}.get(token, (401, "Unauthorized"))
        self.send_response(status)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def metrics_url(tmp_path_factory):
    cert_dir = tmp_path_factory.mktemp("serving-cert")
    key, cert = cert_dir / "tls.key", cert_dir / "tls.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=dynamo-operator-metrics"],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OperatorMetricsStandIn)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def probe(url, tmp_path, token=None):
    token_file = None
    if token is not None:
        token_file = tmp_path / "token"
        token_file.write_text(token + "\n")
    (result,) = [r for r in health.operator(url, url, token_file) if r.name == "operator/metrics"]
    return result


def test_without_a_token_the_probe_fails_naming_401(metrics_url, tmp_path):
    result = probe(metrics_url, tmp_path)
    assert result.status is Status.FAIL
    assert "HTTP 401" in result.reason and "no bearer token" in result.reason


def test_with_a_metrics_reader_token_the_probe_passes(metrics_url, tmp_path):
    result = probe(metrics_url, tmp_path, ALLOWED)
    assert result.status is Status.PASS, result.reason
    assert result.figures == {"families": 1}


def test_a_token_without_get_on_metrics_fails_naming_403(metrics_url, tmp_path):
    result = probe(metrics_url, tmp_path, NOT_ALLOWED)
    assert result.status is Status.FAIL
    assert "HTTP 403" in result.reason and "/metrics" in result.reason


def test_a_plain_http_url_is_refused_before_any_request(metrics_url, tmp_path):
    before = len(OperatorMetricsStandIn.requests)
    result = probe(metrics_url.replace("https://", "http://"), tmp_path, ALLOWED)
    assert result.status is Status.FAIL and "HTTPS only" in result.reason
    assert len(OperatorMetricsStandIn.requests) == before
