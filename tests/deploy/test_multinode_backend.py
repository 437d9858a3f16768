"""disagg-multinode on Grove (default) or LeaderWorkerSet: the operator runs a DGD's multinode
workers on LWS when the DGD carries nvidia.com/enable-grove: "false" (upstream multinode guide)."""

import pytest

from dynamo_harness.deploy import templates
from dynamo_harness.deploy.config import ConfigError, ignored_inputs, parse

MULTINODE = {"runtime": "vllm", "topology": "disagg-multinode", "model": "Qwen/Qwen3-0.6B"}


@pytest.mark.parametrize("runtime", ["vllm", "sglang", "trtllm"])
def test_lws_backend_opts_the_dgd_out_of_grove_and_keeps_its_multinode_workers(runtime):
    values = {**MULTINODE, "runtime": runtime, "multinode_backend": "lws"}
    if runtime == "sglang":
        values["sglang_scaling"] = {"tp_size": 2, "decode_gpus": 1, "prefill_gpus": 1,
                                    "multinode_decode_node_count": 2, "multinode_prefill_node_count": 2}
    manifest = templates.render(parse(values))
    assert manifest["metadata"]["annotations"] == {"nvidia.com/enable-grove": "false"}
    services = manifest["spec"].get("services") or manifest["spec"].get("components")
    assert [s["multinode"]["nodeCount"] for s in (services.values() if isinstance(services, dict) else services)
            if "multinode" in s] == [2, 2]


def test_grove_is_the_default_and_adds_no_annotation():
    assert "annotations" not in templates.render(parse(MULTINODE))["metadata"]


def test_an_unknown_backend_is_rejected_naming_the_field():
    with pytest.raises(ConfigError, match=r"multinode_backend: 'volcano' is not one of \['grove', 'lws'\]"):
        parse({**MULTINODE, "multinode_backend": "volcano"})


def test_the_backend_is_ignored_outside_disagg_multinode_and_says_so():
    config = parse({**MULTINODE, "topology": "disagg", "multinode_backend": "lws"})
    assert "annotations" not in templates.render(config)["metadata"]
    assert "multinode_backend is used by disagg-multinode only; ignored for disagg" in ignored_inputs(config)


def test_the_render_command_takes_the_multinode_backend_as_an_option(capsys):
    from dynamo_harness.cli import main

    assert main(["render", "--runtime", "vllm", "--topology", "disagg-multinode", "--model", "Qwen/Qwen3-0.6B",
                 "--multinode-backend", "lws"]) == 0
    assert "nvidia.com/enable-grove: 'false'" in capsys.readouterr().out
