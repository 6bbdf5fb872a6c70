#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cidr_plan
short_description: Validate a VPC CIDR plan before any AWS API call
version_added: 0.1.0
description:
  - Checks a VPC address plan offline, with Python's C(ipaddress) and no AWS call, and fails with every problem
    named (variable, zone, tier and value) before the network is touched.
  - Checks that the region is known, that the zones are distinct, belong to the region and are as many as asked,
    that every subnet sits inside the VPC CIDR, that no two subnets overlap, and that every prefix length is one
    AWS accepts (/16 to /28) and no smaller than the tier needs.
  - Never changes anything; supports check mode.
author:
  - OUI platform team (@oui-team)
attributes:
  check_mode:
    description: Runs the same in check mode; it never changes anything.
    support: full
  diff_mode:
    description: Has nothing to show with C(--diff); it never changes anything.
    support: none
options:
  region:
    description: The AWS region the plan is for.
    type: str
    required: true
  known_regions:
    description: Regions the plan may name.
    type: list
    elements: str
    required: true
  vpc_cidr:
    description: The VPC's IPv4 CIDR block.
    type: str
    required: true
  zones:
    description:
      - One entry per availability zone, with the CIDR of each tier's subnet in that zone,
        with the keys C(name), C(public), C(private) and C(isolated) (see the example).
    type: list
    elements: dict
    required: true
  tiers:
    description: Subnet tiers every zone must have, with the longest prefix length each accepts.
    type: dict
    default: {public: 26, private: 22, isolated: 24}
  zone_count:
    description: How many distinct zones the plan must span.
    type: int
    default: 3
  variable:
    description: Name of the inventory variable holding the zones, used in the messages.
    type: str
    default: zones
"""

EXAMPLES = r"""
- name: Validate the address plan
  oui.platform.cidr_plan:
    region: eu-west-3
    known_regions: [eu-west-3]
    vpc_cidr: 10.20.0.0/16
    zones:
      - {name: eu-west-3a, public: 10.20.0.0/24, private: 10.20.32.0/19, isolated: 10.20.16.0/22}
      - {name: eu-west-3b, public: 10.20.1.0/24, private: 10.20.64.0/19, isolated: 10.20.20.0/22}
      - {name: eu-west-3c, public: 10.20.2.0/24, private: 10.20.96.0/19, isolated: 10.20.24.0/22}
"""

RETURN = r"""
subnets:
  description: The validated subnets, one per zone and tier, in zone order.
  returned: success
  type: list
  elements: dict
  sample: [{zone: eu-west-3a, tier: public, cidr: 10.20.0.0/24}]
"""

import ipaddress
import re

from ansible.module_utils.basic import AnsibleModule

AWS_MIN_PREFIX = 16
AWS_MAX_PREFIX = 28


def _network(value, where, errors):
    try:
        net = ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        errors.append(f"{where}={value!r} is not a network CIDR ({exc})")
        return None
    if net.version != 4:
        errors.append(f"{where}={value} is not an IPv4 CIDR")
        return None
    if not AWS_MIN_PREFIX <= net.prefixlen <= AWS_MAX_PREFIX:
        errors.append(f"{where}={value}: AWS accepts prefix lengths /{AWS_MIN_PREFIX} to /{AWS_MAX_PREFIX}")
    return net


def validate(region, known_regions, vpc_cidr, zones, tiers, zone_count, variable="zones"):
    """Return (subnets, errors) for a plan; pure, so it is unit-tested directly."""
    errors = []
    if region not in known_regions:
        errors.append(f"region={region!r} is not a known AWS region (known: {', '.join(known_regions)})")
    vpc = _network(vpc_cidr, "vpc_cidr", errors)
    names = [str(zone.get("name", "")) for zone in zones]
    if len(zones) != zone_count:
        errors.append(f"{variable} lists {len(zones)} zones; the plan needs exactly {zone_count} distinct zones")
    seen = set()
    for name in names:
        if name in seen:
            errors.append(f"{variable}: zone {name} is listed twice; every zone must be distinct")
        seen.add(name)
        if not re.fullmatch(re.escape(region) + r"[a-z]", name):
            errors.append(f"{variable}: zone {name!r} is not a zone of region {region}")
    subnets = []
    for index, zone in enumerate(zones):
        for tier, longest in tiers.items():
            where = f"{variable}[{index}].{tier} (zone {names[index]})"
            if not zone.get(tier):
                errors.append(f"{where} is missing: every zone needs a {tier} subnet")
                continue
            net = _network(zone[tier], where, errors)
            if net is None:
                continue
            if net.prefixlen > int(longest):
                errors.append(f"{where}={net} is too small: {tier} subnets need /{longest} or larger")
            if vpc is not None and not net.subnet_of(vpc):
                errors.append(f"{where}={net} is outside vpc_cidr={vpc}")
            subnets.append({"zone": names[index], "tier": tier, "cidr": str(net), "_net": net, "_where": where})
    for i, first in enumerate(subnets):
        for second in subnets[i + 1:]:
            if first["_net"].overlaps(second["_net"]):
                errors.append(f"{first['_where']}={first['cidr']} overlaps {second['_where']}={second['cidr']}")
    return [{k: v for k, v in s.items() if not k.startswith("_")} for s in subnets], errors


def main():
    module = AnsibleModule(
        argument_spec=dict(
            region=dict(type="str", required=True),
            known_regions=dict(type="list", elements="str", required=True),
            vpc_cidr=dict(type="str", required=True),
            zones=dict(type="list", elements="dict", required=True),
            tiers=dict(type="dict", default={"public": 26, "private": 22, "isolated": 24}),
            zone_count=dict(type="int", default=3),
            variable=dict(type="str", default="zones"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    subnets, errors = validate(p["region"], p["known_regions"], p["vpc_cidr"], p["zones"], p["tiers"],
                               p["zone_count"], p["variable"])
    if errors:
        module.fail_json(msg="CIDR plan rejected before any AWS call: " + "; ".join(errors), errors=errors)
    module.exit_json(changed=False, subnets=subnets)


if __name__ == "__main__":
    main()
