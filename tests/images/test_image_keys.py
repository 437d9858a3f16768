"""The cache key of an image (images.Recipe.key, and the kind node image's): it follows what the
image is made from (its pins, the files it copies, the code that fills it, in whichever module) and
nothing else, so moving code around in dynamo_harness/images.py or clusters/kind_node_image.py
reuses the built archives. Pure Python: nothing is built."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

from dynamo_harness import images
from dynamo_harness.clusters import kind_node_image

IMAGES_SOURCE = Path(images.__file__).read_text()
KIND_SOURCE = Path(kind_node_image.__file__).read_text()
ALL_RECIPES = {**images.RECIPES, **kind_node_image.KIND_RECIPES}


def load_images_module(source: str, directory: Path, monkeypatch, name: str = "dynamo_harness._images_copy") -> object:
    """dynamo_harness.images (or the module `name` is a copy of) as if its file held `source` (a
    copy, registered under another name in the same package)."""
    path = directory / f"{name.rsplit('.', 1)[-1]}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def moved_to_the_end(source: str, *functions: str) -> str:
    """The module source with the named top-level functions cut out and appended at the end."""
    lines = source.splitlines(keepends=True)
    spans = [(node.lineno - 1, node.end_lineno) for node in ast.parse(source).body
             if isinstance(node, ast.FunctionDef) and node.name in functions]
    assert len(spans) == len(functions)
    moved = ["\n\n" + "".join(lines[start:end]) for start, end in spans]
    for start, end in sorted(spans, reverse=True):
        del lines[start:end]
    return "".join(lines) + "".join(moved)


def load_kind_module(source: str, directory: Path, monkeypatch) -> object:
    return load_images_module(source, directory, monkeypatch, "dynamo_harness.clusters._kind_node_image_copy")


def keys(module) -> dict[str, str]:
    return {name: recipe.key() for name, recipe in module.RECIPES.items()}


def kind_keys(module) -> dict[str, str]:
    """Every kind recipe's key, and the node image's (over no built images)."""
    return {**{name: recipe.key() for name, recipe in module.KIND_RECIPES.items()},
            "node": module._node_key({}, "ref")}


def test_moving_functions_around_the_module_keeps_every_key(tmp_path, monkeypatch):
    source = moved_to_the_end(IMAGES_SOURCE, "write_users", "go_build", "_build_archive", "debian_install")
    assert source != IMAGES_SOURCE
    assert keys(load_images_module(source, tmp_path, monkeypatch)) == keys(images)


def test_editing_a_helper_changes_the_keys_of_the_images_it_fills_only(tmp_path, monkeypatch):
    edited = IMAGES_SOURCE.replace('("nobody", 65534, "/nonexistent")', '("nobody", 65534, "/")')
    assert edited != IMAGES_SOURCE
    before, after = keys(images), keys(load_images_module(edited, tmp_path, monkeypatch))
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == ["dynamo", "etcd", "kubectl", "nats", "probe"]  # pause has no /etc/passwd


def test_changing_a_pinned_package_version_changes_the_key(monkeypatch):
    before = images.RECIPES["probe"].key()
    monkeypatch.setitem(images.PROBE_PACKAGES, "curl", "7.88.1-10+deb12u99")
    assert images.RECIPES["probe"].key() != before


def test_changing_a_file_the_recipe_copies_changes_the_key(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "ROOT", tmp_path)
    (tmp_path / "hack/tools/pause").mkdir(parents=True)
    program = tmp_path / "hack/tools/pause/main.go"
    program.write_text("package main\n")
    recipe = images.RECIPES["pause"]
    first = recipe.key()
    program.write_text("package main\n\nfunc main() {}\n")
    assert recipe.key() != first
    program.write_text("package main\n")
    assert recipe.key() == first


def test_the_image_config_is_part_of_the_key():
    recipe = images.RECIPES["etcd"]
    assert dataclasses.replace(recipe, user="0:0").key() != recipe.key()


def test_moving_functions_around_the_kind_module_keeps_every_key(tmp_path, monkeypatch):
    source = moved_to_the_end(KIND_SOURCE, "_chroot", "_copy_tool", "kind_module_dir", "cni_manifest", "_replace")
    assert source != KIND_SOURCE
    assert kind_keys(load_kind_module(source, tmp_path, monkeypatch)) == kind_keys(kind_node_image)


def test_editing_a_kind_helper_changes_the_keys_of_the_images_it_fills_only(tmp_path, monkeypatch):
    edited = KIND_SOURCE.replace("(it builds the Kubernetes binaries)", "(it builds Kubernetes)")
    assert edited != KIND_SOURCE
    before, after = kind_keys(kind_node_image), kind_keys(load_kind_module(edited, tmp_path, monkeypatch))
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == ["kind-etcd", "kind-kube-apiserver", "kind-kube-controller-manager", "kind-kube-proxy",
                       "kind-kube-scheduler"]  # _copy_tool's callers; the node key follows them through `built`


def test_editing_the_node_build_changes_the_node_key_only(tmp_path, monkeypatch):
    edited = KIND_SOURCE.replace('"resources": {"requests": {"cpu": "10m"', '"resources": {"requests": {"cpu": "20m"')
    assert edited != KIND_SOURCE
    before, after = kind_keys(kind_node_image), kind_keys(load_kind_module(edited, tmp_path, monkeypatch))
    assert sorted(name for name in before if before[name] != after[name]) == ["node"]


def test_an_images_helper_a_kind_recipe_calls_is_in_its_key(monkeypatch):
    """fill_helper calls images.make_dirs through the module: that function shapes the image too."""
    sources = kind_node_image.KIND_RECIPES["kind-local-path-helper"].build_code().sources
    assert any(source.startswith("def make_dirs(") for source in sources)
    assert any(source.startswith("def debian_install(") for source in sources)


@pytest.mark.parametrize(("name", "package", "version"), [("kind-base", "systemd", "252.39-1~deb12u99"),
                                                          ("kind-cni", "iproute2", "6.1.0-99")])
def test_changing_a_pinned_kind_package_version_changes_the_key(monkeypatch, name, package, version):
    recipe = kind_node_image.KIND_RECIPES[name]
    before = recipe.key()
    table = kind_node_image.BASE_PACKAGES if name == "kind-base" else kind_node_image.ROUTES_PACKAGES
    monkeypatch.setitem(table, package, version)
    assert recipe.key() != before


def test_changing_a_pin_of_the_node_build_changes_the_node_key(monkeypatch):
    before = kind_node_image._node_key({}, "ref")
    monkeypatch.setattr(kind_node_image, "NODE_CLI", ("kubeadm", "kubelet"))
    assert kind_node_image._node_key({}, "ref") != before


def undeclared(code: images.BuildCode, pins: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """(read but not declared, declared but not read)."""
    return set(code.settings) - set(pins), set(pins) - set(code.settings)


BUILDS = {**{name: (recipe.build_code, recipe.pins) for name, recipe in ALL_RECIPES.items()},
          "kind-node": (lambda: images.build_code(kind_node_image._build_node), kind_node_image.NODE_PINS)}


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_each_build_declares_exactly_the_constants_it_reads(name):
    """A constant the build reads but the recipe does not declare would change the image and not
    its key; one declared but never read would rebuild for nothing."""
    code, pins = BUILDS[name]
    missing, unread = undeclared(code(), pins)
    assert not missing and not unread, (f"declare pins={tuple(sorted(code().settings))} on the {name} build "
                                        f"(read but not declared: {sorted(missing)}, declared but not read: {sorted(unread)})")


def test_a_pin_left_out_of_a_recipe_is_caught():
    """The check above fails for a recipe that reads a constant it does not pin (here kind-base
    without CONTAINERD_TAGS, which fill_base passes to go build), and a key over a pin the build
    does not read refuses to be made."""
    recipe = kind_node_image.KIND_RECIPES["kind-base"]
    dropped = dataclasses.replace(recipe, pins=tuple(p for p in recipe.pins if p != "CONTAINERD_TAGS"))
    assert undeclared(dropped.build_code(), dropped.pins) == ({"CONTAINERD_TAGS"}, set())
    with pytest.raises(images.ImageError, match="NATS_UID"):
        dataclasses.replace(recipe, pins=(*recipe.pins, "NATS_UID")).key()


def test_names_of_recipes_are_unique_across_modules():
    assert len(ALL_RECIPES) == len(images.RECIPES) + len(kind_node_image.KIND_RECIPES)
