"""`dynamo-harness render | deploy | undeploy | templates`: the model-deployment commands. The
GitHub workflows call these; they hold no logic of their own."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from ..kube import Kubectl
from ..kube_api import KubeApi, KubeApiError
from ..helm_release import DEFAULT_NAME, DEFAULT_NAMESPACE
from . import on_cluster, templates, worker_settings
from .config import (API_VERSIONS, COMPACT_GROUPS, MULTINODE_BACKENDS, RUNTIMES, TOPOLOGIES, ConfigError, DeploymentConfig,
                     ignored_inputs, load_file, parse)

# CLI option -> config field, for the options that name a field directly.
FIELD_OPTIONS = {
    "runtime": "runtime", "topology": "topology", "image": "image", "model": "model", "name": "name",
    "namespace": "namespace", "router_mode": "router_mode", "hf_token_secret": "hf_token_secret",
    "model_pvc": "model_pvc", "shared_memory": "shared_memory", "api_version": "api_version",
    "multinode_backend": "multinode_backend",
}


def add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML file of deployment fields (docs/deploy.md); options override it")
    parser.add_argument("--runtime", choices=RUNTIMES)
    parser.add_argument("--topology", "--deployment-type", dest="topology", choices=TOPOLOGIES)
    parser.add_argument("--image", "--main-container-image", dest="image", help="runtime image for the frontend and workers")
    parser.add_argument("--model", "--model-name", dest="model", help="model to serve, e.g. Qwen/Qwen3-0.6B")
    parser.add_argument("--name", help="DynamoGraphDeployment name (default <runtime>-<topology>)")
    parser.add_argument("--namespace", help="namespace of the DynamoGraphDeployment (default: default)")
    parser.add_argument("--router-mode", help="frontend router mode (kv, round-robin, ...)")
    parser.add_argument("--hf-token-secret", help="Secret the workers read HF_TOKEN from ('' for none)")
    parser.add_argument("--model-pvc", help="existing PVC for model weights / download cache")
    parser.add_argument("--shared-memory", help="/dev/shm size of each worker, e.g. 16Gi")
    parser.add_argument("--multinode-backend", choices=MULTINODE_BACKENDS,
                        help="orchestrator of disagg-multinode: grove (default) or lws (LeaderWorkerSet)")
    parser.add_argument("--api-version", choices=API_VERSIONS,
                        help="nvidia.com version of the DGD: v1beta1 (default, spec.components) or v1alpha1 for older operators")
    for group in COMPACT_GROUPS:
        parser.add_argument(f"--{group.replace('_', '-')}", dest=group, metavar="JSON",
                            help=f"compact JSON of {group} (dynamo-actions keys)")


def config_from(args: argparse.Namespace) -> DeploymentConfig:
    data: dict[str, Any] = load_file(args.config) if args.config else {}
    for option, key in FIELD_OPTIONS.items():
        if getattr(args, option) is not None:
            data[key] = getattr(args, option)
    for group in COMPACT_GROUPS:
        if getattr(args, group):
            data[group] = getattr(args, group)
    return parse(data)


def _config_or_exit(args: argparse.Namespace) -> DeploymentConfig:
    try:
        config = config_from(args)
    except ConfigError as err:
        sys.exit(f"error: {err}")
    for note in ignored_inputs(config):
        print(f"warning: {note}", file=sys.stderr)
    return config


def add_platform_options(parser: argparse.ArgumentParser, *, release_by_default: bool) -> None:
    """Where the platform's worker settings come from (docs/deploy.md, "Worker settings of the platform")."""
    group = parser.add_argument_group("worker settings of the platform release (merged into every worker; yours win)")
    group.add_argument("--platform-values", action="append", type=Path, metavar="FILE",
                       help="values file(s) the platform was installed with, in `helm -f` order (e.g. values/eks-efa.yaml): "
                            "read dynamo-operator.dynamo.workerDefaults offline")
    default = f" (default {DEFAULT_NAMESPACE})" if release_by_default else ""
    group.add_argument("--platform-namespace", help=f"namespace of the installed platform release to read them from{default}")
    group.add_argument("--platform-release", help=f"name of that release (default {DEFAULT_NAME})")
    parser.set_defaults(release_by_default=release_by_default, no_platform_settings=False)
    if release_by_default:
        group.add_argument("--no-platform-settings", action="store_true", help="merge no worker settings")


def platform_settings(args: argparse.Namespace) -> worker_settings.WorkerSettings | None:
    """The worker settings the options name: from values files, else from the installed release
    (deploy reads it by default, render only when named); None where none is asked for."""
    from_release = args.platform_namespace or args.platform_release
    if args.platform_values and from_release:
        raise worker_settings.WorkerSettingsError(
            "give --platform-values or --platform-namespace/--platform-release, not both")
    if args.platform_values:
        return worker_settings.from_values_files(args.platform_values)
    if args.no_platform_settings or not (from_release or args.release_by_default):
        return None
    return worker_settings.from_release(kube_api_from(args), args.platform_namespace or DEFAULT_NAMESPACE,
                                        args.platform_release or DEFAULT_NAME)


def rendered(args: argparse.Namespace, config: DeploymentConfig) -> tuple[dict[str, Any], str]:
    """The DGD of config with the platform's worker settings merged, and a line saying what was merged."""
    manifest = templates.render(config)
    try:
        settings = platform_settings(args)
    except worker_settings.WorkerSettingsError as err:
        named = args.platform_values or args.platform_namespace or args.platform_release
        sys.exit(f"error: {err}" + ("" if named or not args.release_by_default else "; or deploy without them: --no-platform-settings"))
    if settings is None:
        return manifest, ""
    workers = ", ".join(worker_settings.worker_pod_templates(manifest)) or "no worker component"
    note = f"worker settings of {settings.source}: {settings.summary()}"
    return worker_settings.merge(manifest, settings), note + (f"; merged into {workers}" if settings else "")


def render_command(args: argparse.Namespace) -> int:
    manifest, note = rendered(args, _config_or_exit(args))
    if note:
        print(note, file=sys.stderr)
    manifest = yaml.safe_dump(manifest, sort_keys=False)
    if args.output:
        args.output.write_text(manifest)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(manifest)
    return 0


def kubeconfig_from(args: argparse.Namespace) -> Path:
    return Path(args.kubeconfig or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config"))


def kubectl_from(args: argparse.Namespace) -> Kubectl:
    return Kubectl(kubeconfig_from(args), args.context)


def kube_api_from(args: argparse.Namespace) -> KubeApi:
    return KubeApi(kubeconfig_from(args), args.context)


def deploy_command(args: argparse.Namespace) -> int:
    config = _config_or_exit(args)
    api = kube_api_from(args)
    manifest, note = rendered(args, config)
    if note:
        print(note)
    name = f"{config.namespace}/{config.dgd_name}"
    try:
        on_cluster.validate(api, manifest)
        print(f"validated {name} against the cluster's CRDs (server-side dry run)")
        if config.hf_token_secret:
            print(on_cluster.ensure_hf_token_secret(api, config.namespace, config.hf_token_secret, os.environ.get("HF_TOKEN")))
        on_cluster.apply(api, manifest)
        print(f"applied {name}")
        if args.no_wait:
            return 0
        if not on_cluster.wait_ready(api, config.namespace, config.dgd_name, args.timeout):
            print(f"error: {name} not Ready after {args.timeout:.0f}s", file=sys.stderr)
            return 1
    except KubeApiError as err:
        print(f"error: {err.stderr.strip()}", file=sys.stderr)
        return 1
    print(f"{name} is Ready; frontend: {templates.frontend_address(config)} "
          f"(kubectl port-forward -n {config.namespace} svc/{config.dgd_name}-frontend {templates.FRONTEND_PORT})")
    return 0


def undeploy_command(args: argparse.Namespace) -> int:
    api = kube_api_from(args)
    try:
        removed = on_cluster.undeploy(api, args.namespace, args.name, wait=not args.no_wait)
    except KubeApiError as err:
        print(f"error: {err.stderr.strip()}", file=sys.stderr)
        return 1
    print(f"{args.namespace}/{args.name} {'deleted' if removed else 'was not there'}")
    return 0


def templates_command(args: argparse.Namespace) -> int:
    for runtime in RUNTIMES:
        print(f"{runtime:8} {' '.join(TOPOLOGIES)}")
    return 0


def connection_options() -> argparse.ArgumentParser:
    """The options that name a cluster."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--kubeconfig", help="kubeconfig (default $KUBECONFIG, then ~/.kube/config)")
    options.add_argument("--context", help="kubeconfig context")
    return options


def cluster_options() -> argparse.ArgumentParser:
    """The options of every command that talks to a cluster."""
    options = argparse.ArgumentParser(add_help=False, parents=[connection_options()])
    options.add_argument("--no-wait", action="store_true", help="do not wait (for Ready, or for deletion)")
    options.add_argument("--timeout", type=float, default=1800, help="seconds to wait (default 1800)")
    return options


def register(sub: argparse._SubParsersAction) -> None:
    render = sub.add_parser("render", parents=[connection_options()],
                            help="render a DynamoGraphDeployment (stdout or --output) for GitOps")
    add_config_options(render)
    add_platform_options(render, release_by_default=False)
    render.add_argument("--output", "-o", type=Path, help="write the manifest here instead of stdout")
    render.set_defaults(handler=render_command)

    deploy = sub.add_parser("deploy", parents=[cluster_options()],
                            help="validate (server dry run), create the HF token Secret, apply, wait for Ready")
    add_config_options(deploy)
    add_platform_options(deploy, release_by_default=True)
    deploy.set_defaults(handler=deploy_command)

    undeploy = sub.add_parser("undeploy", parents=[cluster_options()], help="delete a DynamoGraphDeployment")
    undeploy.add_argument("--name", required=True)
    undeploy.add_argument("--namespace", default="default")
    undeploy.set_defaults(handler=undeploy_command)

    listing = sub.add_parser("templates", help="list the runtimes and topologies")
    listing.set_defaults(handler=templates_command)
