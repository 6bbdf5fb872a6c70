#!/usr/bin/env python3
"""The one reader of vars/versions.yml for scripts (roles load it through the preflight).

    scripts/versions.py get kubernetes               -> 1.37.2
    scripts/versions.py get charts.velero.version    -> 12.1.0   (dotted keys)
    scripts/versions.py get images.pause --tag       -> 3.10.2   (the tag of an image reference,
                                                                  or the version without a leading v)
    scripts/versions.py keys                          -> every scalar key, dotted, with its value

Shell scripts call scripts/versions.sh (same arguments), which runs this with the project's
Python environment. A missing key is an error that names it and the file.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

FILE = Path(__file__).resolve().parent.parent / "vars" / "versions.yml"


def load(path: Path = FILE) -> dict:
    return yaml.safe_load(path.read_text())["platform_versions"]


def get(key: str, versions: dict | None = None) -> object:
    node: object = load() if versions is None else versions
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"vars/versions.yml has no platform_versions.{key} (no '{part}')")
        node = node[part]
    return node


def tag(value: str) -> str:
    """The bare version of a pin: the tag of an image reference, without a leading v."""
    text = str(value)
    if "/" in text or ":" in text:
        text = text.rsplit(":", 1)[-1]
    return text[1:] if text.startswith("v") else text


def flatten(node: object, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(node, dict):
        return [kv for k, v in node.items() for kv in flatten(v, f"{prefix}{k}.")]
    return [(prefix[:-1], node)]


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "get" and set(argv[2:]) <= {"--tag"}:
        try:
            value = get(argv[1])
        except KeyError as err:
            print(f"versions: {err.args[0]}", file=sys.stderr)
            return 1
        if isinstance(value, (dict, list)):
            print(f"versions: platform_versions.{argv[1]} is not a single value", file=sys.stderr)
            return 1
        print(tag(value) if "--tag" in argv else value)
        return 0
    if argv == ["keys"]:
        for key, value in flatten(load()):
            print(f"{key}={value}")
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
