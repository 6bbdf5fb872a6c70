# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""oui_aws: the comparisons every AWS module of the collection decides `changed` with."""
from __future__ import annotations

import pytest

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import diff
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import differs
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import resource_argument_spec
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import without_none


@pytest.mark.parametrize("current, desired, expected", [
    ({"a": 1, "b": 2}, {"a": 1}, False),             # keys the module does not set are not compared
    ({"a": 1}, {"a": 2}, True),
    ({"a": ["x", "y"]}, {"a": ["y", "x"]}, False),   # lists of scalars: AWS returns them in any order
    ({"a": ["x"]}, {"a": ["x", "y"]}, True),
    ('{"k": [1, 2]}', '{ "k" : [1, 2] }', False),    # JSON documents compare parsed, not as text
    ('{"k": 1}', '{"k": 2}', True),
    (None, {"a": 1}, True),
    ([{"a": 1, "b": 0}], [{"a": 1}], False),
    ([{"a": 1}], [{"a": 2}], True),
])
def test_differs(current, desired, expected):
    assert differs(current, desired) is expected


def test_without_none_drops_unset_options_at_every_depth():
    assert without_none({"a": None, "b": {"c": None, "d": 1}, "e": [{"f": None}]}) == {"b": {"d": 1}, "e": [{}]}


def test_diff_is_a_copy():
    before = {"a": [1]}
    shown = diff(before, None)
    before["a"].append(2)
    assert shown == {"before": {"a": [1]}, "after": {}}


def test_resource_argument_spec_adds_what_is_asked():
    spec = resource_argument_spec(cluster=True, wait_timeout=600)
    assert spec["cluster_name"] == {"type": "str", "required": True}
    assert spec["wait_timeout"] == {"type": "int", "default": 600}
    assert spec["state"]["choices"] == ["present", "absent"]
    assert set(resource_argument_spec(tags=False)) == {"state"}
    assert "purge_tags" not in resource_argument_spec(purge_tags=False)
