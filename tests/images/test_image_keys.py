"""The cache key of an image (images.Recipe.key): it follows what the image is made from (its pins,
the files it copies, the code that fills it) and nothing else, so moving code around in
dynamo_harness/images.py reuses the built archives. Pure Python: nothing is built."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

from dynamo_harness import images

IMAGES_SOURCE = Path(images.__file__).read_text()


def load_images_module(source: str, directory: Path, monkeypatch) -> object:
    """dynamo_harness.images as if its file held `source` (a copy, registered under another name)."""
    path = directory / "images_copy.py"
    path.write_text(source)
    name = "dynamo_harness._images_copy"
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


def keys(module) -> dict[str, str]:
    return {name: recipe.key() for name, recipe in module.RECIPES.items()}


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


@pytest.mark.parametrize("name", sorted(images.RECIPES))
def test_each_recipe_declares_exactly_the_constants_its_build_reads(name):
    """A constant the build reads but the recipe does not declare would change the image and not
    its key; one declared but never read would rebuild for nothing."""
    recipe = images.RECIPES[name]
    _, read = images.build_code(recipe.fill)
    assert set(recipe.pins) == read, (f"declare pins={tuple(sorted(read))} on the {name} recipe "
                                      f"(read but not declared: {sorted(read - set(recipe.pins))}, "
                                      f"declared but not read: {sorted(set(recipe.pins) - read)})")
