"""dynamo-harness: the command line of the harness.

`up` does the product's main job on this machine and `down` undoes it (dynamo_harness/up.py);
`install` puts the platform chart on any cluster; `render | deploy | undeploy | templates` handle
model deployments (dynamo_harness/deploy/).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import up as local
from .deploy import commands as deploy_commands
from .deploy.on_cluster import ensure_hf_token_secret
from .helm import HelmError
from .paths import overlay_names
from .helm_release import Release


def install_command(args: argparse.Namespace) -> int:
    """Install or upgrade the platform chart with an overlay on the cluster of KUBECONFIG."""
    kubectl = deploy_commands.kubectl_from(args)
    values = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.set_json)}
    try:
        Release(kubectl, args.release, args.namespace).install(args.overlay, values, wait=not args.no_wait,
                                                               timeout=args.timeout)
    except HelmError as err:
        print(f"error: {err.stderr.strip()}", file=sys.stderr)
        return 1
    print(f"release {args.namespace}/{args.release} installed with overlay {args.overlay or 'defaults'}")
    if args.hf_token_secret:
        api = deploy_commands.kube_api_from(args)
        for namespace in args.hf_token_namespace or [args.namespace]:
            api.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}])  # idempotent
            print(ensure_hf_token_secret(api, namespace, args.hf_token_secret, os.environ.get("HF_TOKEN")))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dynamo-harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="bring the local platform up and check it")
    up_parser.add_argument("--overlay", default=local.DEFAULT_OVERLAY, choices=overlay_names())
    up_parser.set_defaults(handler=lambda args: 0 if all(r.ok for r in local.up(args.overlay)) else 1)
    sub.add_parser("down", help="undo up (the reports stay)").set_defaults(handler=lambda args: local.down() or 0)

    install = sub.add_parser("install", parents=[deploy_commands.cluster_options()],
                             help="install or upgrade the platform chart")
    install.add_argument("--overlay", choices=overlay_names(), help="values overlay from values/")
    install.add_argument("--release", default="dynamo-platform")
    install.add_argument("--namespace", default="dynamo-system")
    install.add_argument("--set-json", action="append", default=[], metavar="KEY=JSON", help="extra value, repeatable")
    install.add_argument("--hf-token-secret", default="hf-token-secret", help="Secret to fill from $HF_TOKEN ('' to skip)")
    install.add_argument("--hf-token-namespace", action="append", help="namespace(s) for that Secret (default: the release's)")
    install.set_defaults(handler=install_command, timeout=600)
    deploy_commands.register(sub)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
