"""Bad input fails at `helm template`, naming the key: a key the chart does not read names what to set
instead (charts/dynamo-platform/files/refused-keys.yaml), an unknown key or a wrong type names its
path, and values that would leave a part half-configured fail instead of rendering."""

import json

import pytest
import yaml

from dynamo_harness.paths import CHART

REFUSED = yaml.safe_load((CHART / "files" / "refused-keys.yaml").read_text())
SCHEMA = json.loads((CHART / "values.schema.json").read_text())
# A value no entry accepts: every refused key fails with it.
UNACCEPTED = {"set-by": "a user"}


def schema_node(path: str) -> dict:
    node = SCHEMA
    for key in path.split("."):
        node = node["properties"][key]
    return node


@pytest.mark.parametrize("entry", REFUSED, ids=[e["key"] for e in REFUSED])
def test_a_refused_key_fails_naming_what_to_set_instead(render_error, entry):
    message = render_error(None, {entry["key"]: UNACCEPTED})
    assert f"{entry['key']}=" in message and "is not read by this chart" in message, message
    assert entry["why"] in message and entry["instead"] in message, message


@pytest.mark.parametrize("entry", [e for e in REFUSED if e.get("accept")], ids=[e["key"] for e in REFUSED if e.get("accept")])
def test_a_refused_key_at_an_accepted_value_renders(render, entry):
    for value in entry["accept"]:
        assert render(values={entry["key"]: value})


@pytest.mark.parametrize("entry", REFUSED, ids=[e["key"] for e in REFUSED])
def test_the_schema_lets_a_refused_key_through_to_the_template(entry):
    """Else the user would read the schema's bare 'additional properties not allowed' instead."""
    assert schema_node(entry["key"])["deprecated"] is True


def test_entries_name_a_replacement_and_a_reason():
    for entry in REFUSED:
        assert set(entry) <= {"key", "why", "instead", "accept"} and entry["why"] and entry["instead"], entry
        assert isinstance(entry.get("accept", []), list), entry["key"]
    assert len({e["key"] for e in REFUSED}) == len(REFUSED)


def test_a_renamed_key_names_its_successor(render_error):
    message = render_error(None, {"dynamo-operator.controllerManager.manager.env": [{"name": "A", "value": "1"}]})
    assert "set dynamo-operator.controllerManager.extraEnv" in message


BAD = [
    # (id, values, fragments of the message)
    ("typo-beside-a-refused-key", {"dynamo-operator.controllerManager.manager.envv": []},
     ["/controllerManager/manager", "additional properties 'envv' not allowed"]),
    ("common-labels-not-a-map", {"global.commonLabels": "team=a"}, ["/global/commonLabels", "want object"]),
    ("extra-env-not-a-list", {"nats.extraEnv": {"A": "1"}}, ["/nats/extraEnv", "want array"]),
    ("checkpoint-pvc-name-empty", {"global.checkpoint.pvcName": ""}, ["/global/checkpoint/pvcName"]),
    ("bundled-and-external-nats", {"global.nats.install": True, "dynamo-operator.dynamo.nats.url": "nats://nats.corp:4222"},
     ["global.nats.install=true", "dynamo-operator.dynamo.nats.url", "keep one"]),
    ("nats-auth-without-nats", {"global.nats.auth.enabled": True},
     ["global.nats.auth.enabled=true, but this release has no nats", "global.nats.install=true", "dynamo-operator.dynamo.nats.url"]),
    ("etcd-tls-without-etcd", {"global.etcd.tls.enabled": True},
     ["global.etcd.tls.enabled=true, but this release has no etcd", "dynamo-operator.dynamo.etcd.endpoints"]),
    ("bundled-and-external-etcd", {"global.etcd.install": True, "dynamo-operator.dynamo.etcd.endpoints": "http://etcd.corp:2379"},
     ["global.etcd.install=true", "dynamo-operator.dynamo.etcd.endpoints", "keep one"]),
]


@pytest.mark.parametrize(("values", "fragments"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_values_fail_naming_the_key(render_error, values, fragments):
    message = render_error(None, values)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
