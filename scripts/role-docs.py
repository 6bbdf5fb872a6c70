#!/usr/bin/env python3
"""The variables section of each role's README, generated from its meta/argument_specs.yml.

    scripts/role-docs.py           rewrite the generated block of every roles/*/README.md
    scripts/role-docs.py --check   exit 1, naming the READMEs whose block is not current

The block sits between the two marker comments below, under the README's "## Variables"
heading; everything else in a README is written by hand. It holds the role's own options
(name, type, default, description, as the spec says) and the platform_* inventory variables
the role reads, which the preflight role declares and validates (roles/preflight/README.md).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BEGIN = "<!-- BEGIN variables: generated from meta/argument_specs.yml by `make role-docs`; do not edit -->"
END = "<!-- END variables -->"
HEADING = "## Variables"
# Set by the preflight for every later play, not read from the inventory.
PREFLIGHT_SETS = {"platform_labels": "the labels every object carries",
                  "platform_versions": "the pinned versions (vars/versions.yml)"}


def cell(text: str) -> str:
    """One table cell: one line, Ansible's doc markup (C(), V(), O(), I()) as markdown."""
    text = " ".join(str(text).split())
    text = re.sub(r"\b[CVO]\(([^()]*)\)", r"`\1`", text)
    text = re.sub(r"\bI\(([^()]*)\)", r"*\1*", text)
    return text.replace("|", "\\|")


def describe(spec: dict) -> str:
    text = spec.get("description", "")
    return cell(" ".join(text) if isinstance(text, list) else text)


def type_of(spec: dict) -> str:
    kind = spec.get("type", "str")
    if kind == "list" and spec.get("elements"):
        kind = f"list of {spec['elements']}"
    if spec.get("choices"):
        kind += ": " + " / ".join(str(c) for c in spec["choices"])
    return cell(kind)


def default_of(spec: dict) -> str:
    if spec.get("required"):
        return "(required)"
    if "default" not in spec:
        return "(unset)"
    value = spec["default"]
    text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    if text.endswith("\n..."):
        text = text[:-4]
    text = text.strip() if text != "" else "''"
    return f"`{cell(text)}`"


def platform_read(role: Path) -> list[str]:
    found: set[str] = set()
    for path in role.rglob("*"):
        if path.is_file() and path.suffix in (".yml", ".j2") and "meta" not in path.parts:
            found |= set(re.findall(r"\bplatform_[a-z_]+\b", path.read_text()))
    return sorted(found)


def block(role: Path) -> str:
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
    options = spec.get("options") or {}
    own = {k: v for k, v in options.items() if not (role.name == "preflight" and k.startswith("platform_"))}
    lines = [BEGIN, ""]
    if own:
        lines += ["| Variable | Type | Default | Description |", "|---|---|---|---|"]
        lines += [f"| `{name}` | {type_of(o)} | {default_of(o)} | {describe(o)} |" for name, o in own.items()]
    else:
        lines.append("The role has no variables of its own.")
    if role.name == "preflight":
        inventory = {k: v for k, v in options.items() if k.startswith("platform_")}
        lines += ["", "The inventory's `platform_*` variables (`group_vars/all/platform.yml`), which every role reads",
                  "and this role validates first, before anything changes:", "",
                  "| Variable | Type | Default | Description |", "|---|---|---|---|"]
        lines += [f"| `{name}` | {type_of(o)} | {default_of(o)} | {describe(o)} |" for name, o in inventory.items()]
        lines += ["", "Set by this role for every later play: "
                  + "; ".join(f"`{k}`, {v}" for k, v in PREFLIGHT_SETS.items()) + "."]
    else:
        read = platform_read(role)
        inventory = [f"`{name}`" for name in read if name not in PREFLIGHT_SETS]
        facts = [f"`{name}`" for name in read if name in PREFLIGHT_SETS]
        if read:
            lines += ["", "Also reads " + " and ".join(filter(None, [
                ", ".join(inventory) + " (the inventory's, declared and validated by the preflight role)" if inventory else "",
                ", ".join(facts) + " (set by the preflight role)" if facts else ""]))
                + ": see [its variables](../preflight/README.md#variables). Every playbook runs it first."]
    lines += ["", END]
    return "\n".join(lines)


def rewrite(text: str, generated: str, readme: Path) -> str:
    if BEGIN in text:
        start, end = text.index(BEGIN), text.index(END) + len(END)
        return text[:start] + generated + text[end:]
    if HEADING not in text:
        return text.rstrip("\n") + f"\n\n{HEADING}\n\n{generated}\n"
    # First generation: the hand-written table right under the heading makes way for the block.
    head, rest = text.split(HEADING, 1)
    lines = rest.split("\n")
    i = 1
    while i < len(lines) and not lines[i].startswith("|") and not lines[i].startswith("#"):
        i += 1
    if i < len(lines) and lines[i].startswith("|"):
        j = i
        while j < len(lines) and lines[j].startswith("|"):
            j += 1
        lines[i:j] = [generated]
    else:
        lines[1:1] = ["", generated]
    return head + HEADING + "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report READMEs that are not current")
    args = parser.parse_args()
    stale = []
    roles = sorted(p for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
    for role in roles:
        readme = role / "README.md"
        text = readme.read_text() if readme.exists() else f"# oui.platform.{role.name}\n"
        new = rewrite(text, block(role), readme)
        if new != text:
            stale.append(readme.relative_to(REPO))
            if not args.check:
                readme.write_text(new)
    if args.check and stale:
        print("role-docs: these READMEs' variables are not those of meta/argument_specs.yml; run `make role-docs`:",
              *stale, sep="\n  ", file=sys.stderr)
        return 1
    print(f"role-docs: {len(roles)} role READMEs " + ("current" if args.check else f"checked, {len(stale)} rewritten"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
