"""Reads the `# -- description` comments of a values.yaml, keyed by dotted key path.

Rule enforced by `check_documented`: every key carries a `# --` comment, except a mapping whose
own keys are all documented (a section heading). Keys below a documented key (the inside of a
default such as `resources:`) and inside list items belong to that key's value. A key left unset on
purpose is written commented out right below its `# --` line (`# tolerations: []`): it is documented,
and Helm sees no default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z0-9_.\-]+):(?:\s|$)")
DOC_LINE = re.compile(r"^\s*# -- (?P<text>.+)$")
UNSET_KEY_LINE = re.compile(r"^(?P<indent>\s*)# (?P<key>[A-Za-z0-9_.\-]+):(?:\s|$)")


@dataclass
class Key:
    path: tuple[str, ...]
    description: str | None
    indent: int


def read_keys(values_file: Path) -> list[Key]:
    keys: list[Key] = []
    stack: list[Key] = []
    pending: str | None = None
    opaque_indent: int | None = None  # keys deeper than this are part of a documented value
    for line in values_file.read_text().splitlines():
        doc = DOC_LINE.match(line)
        if doc:
            pending = doc.group("text").strip()
            continue
        if line.lstrip().startswith("- "):
            if stack and opaque_indent is None:
                opaque_indent = stack[-1].indent
            continue
        match = KEY_LINE.match(line) or (UNSET_KEY_LINE.match(line) if pending else None)
        if not match:
            continue
        indent = len(match.group("indent"))
        if opaque_indent is not None:
            if indent > opaque_indent:
                continue
            opaque_indent = None
        while stack and stack[-1].indent >= indent:
            stack.pop()
        if stack and stack[-1].description is not None:
            opaque_indent = stack[-1].indent
            continue
        key = Key((stack[-1].path if stack else ()) + (match.group("key"),), pending, indent)
        pending = None
        keys.append(key)
        stack.append(key)
    return keys


def descriptions(values_file: Path) -> dict[tuple[str, ...], str]:
    return {k.path: k.description for k in read_keys(values_file) if k.description}


def check_documented(values_file: Path) -> list[str]:
    """Dotted paths of keys that have neither a description nor documented children."""
    keys = read_keys(values_file)
    has_children = {k.path[:-1] for k in keys}
    return [
        ".".join(k.path)
        for k in keys
        if k.description is None and k.path not in has_children
    ]
