"""The local node's images run the way the chart runs them: the chart's own commands, args,
environment and config files (rendered by helm), its non-root UIDs, a read-only root filesystem,
and the binaries its probes and jobs call."""

from __future__ import annotations

import dataclasses
import json
import re
import tarfile
import time
from pathlib import Path

import pytest
import yaml

from dynamo_harness import images
from dynamo_harness.dataplane.embedded import LOOPBACK_ENV
from dynamo_harness.manifests import by_kind, named, pod_specs

ETCD_POD = "dynamo-platform-etcd-0"
NATS_POD = "dynamo-platform-nats-0"
CHART = Path(__file__).resolve().parents[2] / "charts" / "dynamo-platform"


def image_config(built: images.Built) -> dict:
    with tarfile.open(built.archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]
        assert manifest["RepoTags"] == [built.recipe.ref]
        return json.load(tar.extractfile(manifest["Config"]))["config"]


def image_file(built: images.Built, path: str) -> str:
    """A file from the image's (single) layer."""
    with tarfile.open(built.archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]
        with tarfile.open(fileobj=tar.extractfile(manifest["Layers"][0])) as layer:
            return layer.extractfile(path).read().decode()


def localize(value: str, env: dict[str, str]) -> str:
    """What the kubelet and cluster DNS would make of a rendered value, inside one sandbox:
    $(VAR) expanded, and every in-cluster host name turned into loopback."""
    value = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], value)
    return re.sub(r"(?<=://)[a-z0-9.-]*dynamo-platform[a-z0-9.-]*", "127.0.0.1", value)


def container_env(container: dict, env: dict[str, str]) -> dict[str, str]:
    """A rendered container's literal env values, localized (secret and field refs come from `env`)."""
    resolved = dict(env)
    for item in container.get("env", []):
        resolved[item["name"]] = localize(item["value"], resolved) if "value" in item else env[item["name"]]
    return resolved


def chart_version(subchart: str) -> str:
    return yaml.safe_load((CHART / "charts" / subchart / "Chart.yaml").read_text())["appVersion"]


def probe_script(render, name: str) -> str:
    """The `sh -ec` script of the chart's `helm test` pod for `name`, aimed at loopback."""
    pod = named(render(), "Pod", f"dynamo-platform-test-{name}")
    command = pod["spec"]["containers"][0]["command"]
    assert command[:2] == ["sh", "-ec"]
    return re.sub(r"[a-z0-9.-]+\.svc\.cluster\.local", "127.0.0.1", command[2])


def wait_for(check, what: str, pod, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}\n{pod.logs()}")


def curl(pod, url: str, *extra: str) -> str | None:
    """curl from the probe image inside the sandbox; the body, or None on failure."""
    result = pod.run(f"curl{time.monotonic_ns()}", "probe", ["curl", "-fsS", "--max-time", "5", *extra, url])
    return result.stdout if result.returncode == 0 else None


# --- building --------------------------------------------------------------------------------

def test_a_second_build_with_nothing_changed_is_skipped(built):
    again = images.build()
    assert {name: (item.archive, item.seconds) for name, item in again.items()} == {
        name: (item.archive, 0.0) for name, item in built.items()}


def test_archive_names_follow_their_inputs(built):
    recipe = built["etcd"].recipe
    assert recipe.archive() == built["etcd"].archive
    assert dataclasses.replace(recipe, user="0:0").archive() != recipe.archive()


# --- configuration ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(images.RECIPES))
def test_image_runs_as_a_numeric_non_root_user(built, name):
    user = image_config(built[name])["User"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) != 0, user


@pytest.mark.parametrize(("name", "subchart"), [("etcd", "etcd"), ("nats", "nats")])
def test_image_tag_is_the_charts_version(built, name, subchart):
    # The chart's NATS tag names the upstream alpine variant; the local image is not alpine.
    assert built[name].recipe.tag == chart_version(subchart).removesuffix("-alpine")


@pytest.mark.parametrize(("name", "workload"), [("etcd", "dynamo-platform-etcd"), ("nats", "dynamo-platform-nats")])
def test_image_user_is_the_charts_run_as_user(built, render, name, workload):
    spec = named(render(), "StatefulSet", workload)["spec"]["template"]["spec"]
    uid = spec["securityContext"]["runAsUser"]
    assert image_config(built[name])["User"] == f"{uid}:{uid}"


def test_probe_image_user_is_the_helm_test_pods_user(built, render):
    pods = by_kind(render(), "Pod")
    assert pods and {p["spec"]["securityContext"]["runAsUser"] for p in pods} == {int(image_config(built["probe"])["User"].split(":")[0])}


def test_chart_values_point_etcd_nats_and_probes_at_the_local_images(built, render):
    rendered = render(values=images.chart_values())
    refs = {c["image"]: c["imagePullPolicy"] for pod in pod_specs(rendered) for c in pod.containers()
            if not pod.name.startswith(("Deployment/dynamo-platform-dynamo-operator", "Job/dynamo-platform-dynamo-operator"))}
    local = {built[n].recipe.ref for n in ("etcd", "nats", "probe")}
    assert set(refs) == local and set(refs.values()) == {"Never"}, refs


@pytest.mark.parametrize(("name", "pins"), [("probe", images.PROBE_PACKAGES), ("dynamo", images.FRONTEND_PACKAGES),
                                           ("kubectl", images.KUBECTL_PACKAGES)])
def test_debian_images_list_every_package_with_the_pinned_versions(built, name, pins):
    listed = dict(line.split(" ", 1) for line in image_file(built[name], "usr/share/dynamo-local/packages.txt").splitlines())
    assert {package: listed.get(package) for package in pins} == pins
    assert "libc6" in listed  # dependencies are listed too


# --- running ---------------------------------------------------------------------------------

def test_pause_holds_the_sandbox_and_exits_on_sigterm(pod):
    assert pod.status("pause") == "RUNNING"
    pod.containerd.ctr("tasks", "kill", "-s", "SIGTERM", f"{pod.name}-pause")
    wait_for(lambda: pod.status("pause") == "STOPPED", "pause to exit on SIGTERM", pod, timeout=10)


def test_probe_image_has_posix_sh_curl_and_grep(pod):
    result = pod.run("probe", "probe", ["sh", "-ec", "curl --version; echo 'ok x' | grep -qF 'ok'; echo done"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("curl ") and result.stdout.rstrip().endswith("done")


def test_migration_job_runs_its_script_and_fails_without_patching_when_it_cannot_list(pod, render, writable):
    """The chart's storage-migration container (command, script, env) as the chart's user: bash and
    kubectl run from the image; with no API server in the sandbox the list fails, and the script
    says so and exits non-zero without reaching the storedVersions patch."""
    job = named(render(), "Job", "dynamo-platform-dynamo-operator-storage-migration-1")["spec"]["template"]["spec"]
    container = job["containers"][0]
    uid = job["securityContext"]["runAsUser"]
    assert image_config(images.build(["kubectl"])["kubectl"])["User"] == f"{uid}:{uid}"
    version = pod.run("version", "kubectl", ["kubectl", "version", "--client"])
    assert f"Client Version: {images.pinned_version('KUBECTL_VERSION')}" in version.stdout, version.stdout + version.stderr
    result = pod.run("migrate", "kubectl", container["command"] + container["args"], env=container_env(container, {}),
                     mounts={"/tmp": writable("tmp", images.NONROOT)})
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "ERROR: cannot list dynamographdeploymentrequests.v1beta1.nvidia.com" in output
    assert "storedVersions is" not in output


def start_etcd(pod, render, writable, values: dict | None = None) -> dict:
    """The chart's etcd container (command and env as rendered) in the sandbox."""
    container = named(render(values=values), "StatefulSet", "dynamo-platform-etcd")["spec"]["template"]["spec"]["containers"][0]
    env = container_env(container, {"POD_NAME": ETCD_POD})
    pod.start("etcd", "etcd", container["command"], env=env, mounts={"/var/run/etcd": writable("etcd", images.NONROOT)})
    return container


def test_etcd_runs_the_charts_statefulset_and_passes_its_helm_test(pod, render, writable):
    start_etcd(pod, render, writable)
    # Ready as the chart's readinessProbe sees it (helm test runs on Ready pods): /health, not serializable.
    wait_for(lambda: curl(pod, "http://127.0.0.1:2381/health"), "etcd /health", pod)
    version = pod.exec("etcd", "/usr/local/bin/etcd", "--version").stdout
    assert f"etcd Version: {chart_version('etcd').removeprefix('v')}" in version
    result = pod.run("test-etcd", "probe", ["sh", "-ec", probe_script(render, "etcd")])
    assert result.returncode == 0 and result.stdout.strip().endswith("etcd ok"), result.stdout + result.stderr


def test_etcd_auth_job_enables_auth_with_the_images_etcdctl(pod, render, writable):
    values = {"global.etcd.auth.enabled": True}
    start_etcd(pod, render, writable, values)
    wait_for(lambda: curl(pod, "http://127.0.0.1:2381/health"), "etcd /health", pod)
    job = named(render(values=values), "Job", "dynamo-platform-etcd-enable-auth")["spec"]["template"]["spec"]
    secrets = {"ROOT_PASSWORD": "s3cret-test"}
    for step in job["initContainers"] + job["containers"]:
        env = container_env(step, secrets)
        result = pod.run(step["name"], "etcd", step["command"] + [localize(a, env) for a in step["args"]], env=env)
        assert result.returncode == 0, f"{step['name']}: {result.stdout}{result.stderr}"
    anonymous = pod.run("anonymous", "etcd", ["/usr/local/bin/etcdctl", "--endpoints=http://127.0.0.1:2379", "put", "k", "v"])
    assert anonymous.returncode != 0 and "user name is empty" in anonymous.stderr
    root = pod.run("root", "etcd", ["/usr/local/bin/etcdctl", "--endpoints=http://127.0.0.1:2379", "--user=root:s3cret-test", "put", "k", "v"])
    assert root.returncode == 0, root.stderr


def start_nats(pod, render, writable) -> dict:
    """The chart's NATS container (args, env, nats.conf from its ConfigMap) in the sandbox."""
    manifests = render()
    container = named(manifests, "StatefulSet", "dynamo-platform-nats")["spec"]["template"]["spec"]["containers"][0]
    config = Path(writable("nats-config", 0))
    (config / "nats.conf").write_text(named(manifests, "ConfigMap", "dynamo-platform-nats-config")["data"]["nats.conf"])
    mounts = {"/etc/nats": str(config), "/data": writable("nats-data", images.NATS_UID), "/tmp": writable("nats-tmp", images.NATS_UID)}
    # The pod gives args only, so the image's entrypoint runs them (ctr replaces both, Kubernetes only CMD).
    argv = images.RECIPES["nats"].entrypoint + container["args"]
    pod.start("nats", "nats", argv, env=container_env(container, {"SERVER_NAME": NATS_POD}), mounts=mounts)
    return container


def test_nats_runs_the_charts_statefulset_and_passes_its_helm_test(pod, render, writable):
    container = start_nats(pod, render, writable)
    ready = container["readinessProbe"]["httpGet"]["path"]  # what turns the pod Ready, before helm test runs
    wait_for(lambda: curl(pod, f"http://127.0.0.1:8222{ready}"), f"nats {ready}", pod)
    varz = curl(pod, "http://127.0.0.1:8222/varz")
    assert varz, pod.logs()
    assert json.loads(varz)["version"] == chart_version("nats").removesuffix("-alpine")
    assert json.loads(varz)["server_name"] == NATS_POD
    result = pod.run("test-nats", "probe", ["sh", "-ec", probe_script(render, "nats")])
    assert result.returncode == 0 and result.stdout.strip().endswith("nats ok"), result.stdout + result.stderr
    # The preStop hook (lame-duck mode) finds nats-server on PATH and the pid file in /tmp.
    # With no clients the server may exit before the hook's own process does (which then dies with
    # the container): what counts is that the server, signalled through its pid file, left by itself.
    pod.exec("nats", *container["lifecycle"]["preStop"]["exec"]["command"])
    wait_for(lambda: curl(pod, "http://127.0.0.1:8222/healthz") is None, "nats to leave after lame duck", pod, timeout=60)
    assert pod.status("nats") == "STOPPED"


def test_nats_helm_test_fails_naming_nats_when_it_is_down(pod, render):
    result = pod.run("test-nats", "probe", ["sh", "-ec", probe_script(render, "nats")])
    assert result.returncode != 0 and "nats ok" not in result.stdout


def test_dynamo_frontend_and_mocker_serve_the_tiny_model_through_etcd_and_nats(pod, render, writable):
    start_etcd(pod, render, writable)
    start_nats(pod, render, writable)
    wait_for(lambda: curl(pod, "http://127.0.0.1:2381/health"), "etcd /health", pod)
    wait_for(lambda: curl(pod, "http://127.0.0.1:8222/healthz?js-enabled-only=true"), "nats /healthz", pod)
    # The embedded data plane's wiring (dataplane/embedded.py): etcd discovery, NATS events, loopback planes.
    env = {**LOOPBACK_ENV, "ETCD_ENDPOINTS": "http://127.0.0.1:2379", "NATS_SERVER": "nats://127.0.0.1:4222"}
    dynamo = ["--discovery-backend", "etcd", "--event-plane", "nats"]
    writable = {"/tmp": writable("dynamo-tmp", images.NONROOT)}
    pod.start("frontend", "dynamo", ["python", "-m", "dynamo.frontend", "--http-host", "127.0.0.1",
                                     "--http-port", "8000", *dynamo], env=env, mounts=writable)
    pod.start("worker", "dynamo", ["python", "-m", "dynamo.mocker", "--model-path", images.TINY_MODEL,
                                   "--model-name", "tiny", *dynamo], env=env, mounts=writable)
    wait_for(lambda: curl(pod, "http://127.0.0.1:8000/health"), "frontend /health", pod, timeout=180)
    models = wait_for(lambda: (out := curl(pod, "http://127.0.0.1:8000/v1/models")) and '"tiny"' in out and out,
                      "the mocker's model in /v1/models", pod, timeout=180)
    assert json.loads(models)["data"][0]["id"] == "tiny"
    body = json.dumps({"model": "tiny", "max_tokens": 4, "messages": [{"role": "user", "content": "w1 w2"}]})
    reply = curl(pod, "http://127.0.0.1:8000/v1/chat/completions", "-H", "Content-Type: application/json", "-d", body)
    assert reply and json.loads(reply)["choices"], pod.logs()
