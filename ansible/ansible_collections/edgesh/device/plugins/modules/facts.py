#!/usr/bin/python
# -*- coding: utf-8 -*-
# The facts module: the device's version, packages, media and boot configuration as ansible_net_* facts.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
module: facts
author: edgesh
short_description: Collect facts from an edgesh device
description:
- Collects the device's facts from its JSON documents and returns them as C(ansible_net_*) facts, one
  command per subset. C(min) reads C(show version | json) for the host name, firmware version, serial,
  architectures, uptime, and whether a reboot is pending and why; C(packages) reads C(package show | json),
  C(media) reads C(show media | json) and C(boot) reads C(boot show | json).
- The C(smart) fact gathering of a play does not know this platform; use C(gather_facts=false) and
  call this module, or set C(ansible_facts_modules) to C(edgesh.device.facts).
version_added: 1.0.0
extends_documentation_fragment:
- edgesh.device.edgesh
options:
  gather_subset:
    description:
    - Which facts to collect, C(all) or a list of C(min), C(packages), C(media), C(boot); a subset
      preceded by C(!) is left out (C(!media)). C(min) is always collected.
    type: list
    elements: str
    default: [all]
"""

EXAMPLES = """
- name: Every fact
  edgesh.device.facts:

- name: Only what a rollout needs
  edgesh.device.facts:
    gather_subset: [packages]

- name: Fail when a reboot is pending
  ansible.builtin.assert:
    that: not ansible_net_reboot_pending
"""

RETURN = """
ansible_facts:
  description: The facts collected.
  returned: always
  type: dict
  contains:
    ansible_net_gather_subset:
      description: The subsets collected.
      type: list
    ansible_net_system:
      description: C(edgesh).
      type: str
    ansible_net_api:
      description: C(cliconf).
      type: str
    ansible_net_python_version:
      description: The Python version of the controller.
      type: str
    ansible_net_hostname:
      description: The device's host name.
      type: str
    ansible_net_version:
      description: The firmware version.
      type: str
    ansible_net_serialnum:
      description: The device's serial number.
      type: str
    ansible_net_architectures:
      description: The package architectures the device accepts (C(all) first).
      type: list
    ansible_net_secure_boot:
      description: Whether the device has a secure-boot anchor.
      type: bool
    ansible_net_booted_at:
      description: When the device last booted (ISO 8601, UTC).
      type: str
    ansible_net_uptime:
      description: Seconds since the last boot.
      type: int
    ansible_net_reboot_pending:
      description: Whether the next boot changes what runs.
      type: bool
    ansible_net_pending:
      description: Why (C(packages) changed since the last boot, C(boot_config)).
      type: dict
    ansible_net_packages:
      description: The installed packages as C(package show | json) lists them (name, version, state, ...).
      type: list
      returned: when packages is collected
    ansible_net_media:
      description: The media labels and the drives they match (C(show media | json)).
      type: list
      returned: when media is collected
    ansible_net_boot:
      description: The boot configuration (C(boot show | json)).
      type: dict
      returned: when boot is collected
"""

import platform

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.edgesh import EdgeshError, run

SUBSETS = ["min", "packages", "media", "boot"]


def subsets(asked):
    """The subsets to collect from a gather_subset list; raises ValueError on an unknown one."""
    wanted = set()
    excluded = set()
    for item in asked:
        name = item[1:] if item.startswith("!") else item
        if name != "all" and name not in SUBSETS:
            raise ValueError("unknown subset %s: use all, %s" % (name, ", ".join(SUBSETS)))
        names = SUBSETS if name == "all" else [name]
        (excluded if item.startswith("!") else wanted).update(names)
    if not wanted:
        wanted = set(SUBSETS)
    return ["min"] + [s for s in SUBSETS[1:] if s in wanted and s not in excluded]


def main():
    module = AnsibleModule(
        argument_spec=dict(gather_subset=dict(type="list", elements="str", default=["all"])),
        supports_check_mode=True,
    )
    try:
        chosen = subsets(module.params["gather_subset"])
    except ValueError as e:
        module.fail_json(msg=str(e))
    facts = {
        "ansible_net_gather_subset": chosen,
        "ansible_net_system": "edgesh",
        "ansible_net_api": "cliconf",
        "ansible_net_python_version": platform.python_version(),
    }
    try:
        version = run(module, "show version")
        facts.update({
            "ansible_net_hostname": version.get("hostname"),
            "ansible_net_version": version.get("firmware_version"),
            "ansible_net_serialnum": version.get("serial"),
            "ansible_net_architectures": version.get("architectures"),
            "ansible_net_secure_boot": version.get("secure_boot"),
            "ansible_net_booted_at": version.get("booted_at"),
            "ansible_net_uptime": version.get("uptime_seconds"),
            "ansible_net_reboot_pending": version.get("reboot_pending"),
            "ansible_net_pending": version.get("pending"),
        })
        if "packages" in chosen:
            facts["ansible_net_packages"] = run(module, "package show")["packages"]
        if "media" in chosen:
            facts["ansible_net_media"] = run(module, "show media")["media"]
        if "boot" in chosen:
            facts["ansible_net_boot"] = run(module, "boot show")
    except EdgeshError as e:
        module.fail_json(**e.result())
    module.exit_json(ansible_facts=facts)


if __name__ == "__main__":
    main()
