# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options documented once for the oui.platform modules that manage one AWS resource.

The matching argument_spec entries come from
plugins/module_utils/oui_aws.py:resource_argument_spec(), so documentation and behaviour
are kept side by side. Tags and purge_tags are documented by amazon.aws.tags.modules.
"""
from __future__ import annotations


class ModuleDocFragment:
    # oui.platform.aws_resource - every module that creates and deletes one resource.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing the resource.
    support: full
  diff_mode:
    description: Returns the resource before and after (what would change, in check mode) with C(--diff).
    support: full
options:
  state:
    description: Whether the resource should exist (V(present)) or be deleted (V(absent)).
    type: str
    choices: [present, absent]
    default: present
"""

    # oui.platform.aws_resource.cluster - resources that belong to one EKS cluster.
    CLUSTER = r"""
options:
  cluster_name:
    description: EKS cluster name.
    type: str
    required: true
"""

    # oui.platform.aws_resource.wait - resources EKS creates and deletes asynchronously.
    # wait_timeout has no default here on purpose: each module documents its own (how long
    # EKS takes differs per resource) and passes the same value to resource_argument_spec().
    WAIT = r"""
options:
  wait:
    description: Wait for the resource to be C(ACTIVE) (or gone, when deleted) before returning.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
"""
