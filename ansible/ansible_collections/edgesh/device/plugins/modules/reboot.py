#!/usr/bin/python
# -*- coding: utf-8 -*-
# The reboot module: reboots when a reboot is pending, waits for the boot, returns its report, checks activations.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
module: reboot
author: edgesh
short_description: Reboot an edgesh device to activate its packages, and check the boot report
description:
- Reboots the device when a reboot is pending (C(show version | json) says C(reboot_pending)), or
  always with C(force=true); confirms the reboot on the command line (C(reboot confirm)); waits until the
  boot is over and returns its report as data (every package with its verification and whether it was
  activated, and the packages the boot took out).
- Fails when a package that had changed since the last boot was not activated by this one, or when
  one of I(expect) is not active (at its version). Without a reboot the check is made against the
  installed packages, so a second run reports no change and still fails when an expected package is
  not active.
- Supports check mode (says whether it would reboot).
version_added: 1.0.0
extends_documentation_fragment:
- edgesh.device.edgesh
options:
  force:
    description:
    - Reboot even when no reboot is pending.
    type: bool
    default: false
  expect:
    description:
    - Packages that must be active after the reboot, each C(NAME) or C(NAME=VERSION).
    type: list
    elements: str
    default: []
  fail_on_not_activated:
    description:
    - Fail when a package installed or changed since the last boot was not activated by this boot
      (an unsigned package without allow-untrusted, a failing maintainer script, a full storage, ...).
    type: bool
    default: true
  boot_timeout:
    description:
    - Seconds the boot may take (verifying and activating every package); raises the connection's
      command timeout for it when that is lower.
    type: int
    default: 600
"""

EXAMPLES = """
- name: Activate what was installed, and make sure hello 1.2.0 runs
  edgesh.device.reboot:
    expect:
      - hello=1.2.0

- name: Reboot whether or not anything changed
  edgesh.device.reboot:
    force: true
  register: boot

- name: Show what the boot did
  ansible.builtin.debug:
    msg: "{{ item.name }} {{ item.version }}: {{ item.reason }}"
  loop: "{{ boot.boot.packages }}"
"""

RETURN = """
rebooted:
  description: Whether the device was rebooted.
  returned: always
  type: bool
reboot_pending:
  description: Whether a reboot was pending before the task (C(show version | json)).
  returned: always
  type: bool
pending:
  description: What the pending reboot was for (C(packages), C(boot_config)).
  returned: always
  type: dict
  sample: {"packages": ["hello"], "boot_config": false}
boot:
  description: The report of the boot the module made.
  returned: when rebooted
  type: dict
  contains:
    booted_at:
      description: When the boot ran (ISO 8601, UTC).
      type: str
    packages:
      description: One entry per installed package, in name order.
      type: list
      elements: dict
      sample: [{"name": "hello", "version": "1.2.0", "verification": "Signed", "activated": true, "reason": "activated"}]
    deactivated:
      description: The packages the boot took out, and why.
      type: list
      elements: dict
      sample: [{"name": "old", "version": "1.0", "reason": "removed"}]
not_activated:
  description: Why a package that should be active is not, one sentence each; the task fails when not empty.
  returned: always
  type: list
  elements: str
  sample: ["netdiag 0.9 was not activated: unsigned, allow-untrusted is off"]
commands:
  description: The commands that change the device (or, in check mode, would).
  returned: always
  type: list
  sample: ["reboot confirm"]
error_class:
  description: The class of the device's error, when a command failed.
  returned: failed
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.edgesh import (
    CommandTimeout,
    EdgeshError,
    run,
)
from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.plan import (
    boot_failures,
    parse_expectations,
)


def main():
    argument_spec = dict(
        force=dict(type="bool", default=False),
        expect=dict(type="list", elements="str", default=[]),
        fail_on_not_activated=dict(type="bool", default=True),
        boot_timeout=dict(type="int", default=600),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        expectations = parse_expectations(module.params["expect"])
    except ValueError as e:
        module.fail_json(msg=str(e))

    result = {"changed": False, "rebooted": False, "commands": [], "not_activated": []}
    try:
        version = run(module, "show version")
        result["reboot_pending"] = bool(version.get("reboot_pending"))
        result["pending"] = version.get("pending")
        if not (module.params["force"] or result["reboot_pending"]):
            # Nothing to boot: the expectations are checked against what runs now.
            packages = run(module, "package show")["packages"] if expectations else []
            report = {"packages": [dict(p, activated=p.get("state") == "active", reason=p.get("reason") or p.get("state"))
                                   for p in packages]}
            result["not_activated"] = boot_failures(report, expectations)
        else:
            result["commands"].append("reboot confirm")
            result["changed"] = True
            if not module.check_mode:
                with CommandTimeout(module, module.params["boot_timeout"]):
                    report = run(module, "reboot confirm")
                result["rebooted"] = True
                result["boot"] = report
                changed = set((result["pending"] or {}).get("packages") or [])
                checks = list(expectations)
                if module.params["fail_on_not_activated"]:
                    named = set(name for name, _ in expectations)
                    checks += [(line["name"], None) for line in report.get("packages", [])
                               if line["name"] in changed and line["name"] not in named]
                result["not_activated"] = boot_failures(report, checks)
    except EdgeshError as e:
        result.update(e.result())
        module.fail_json(**result)
    if result["not_activated"]:
        module.fail_json(msg="; ".join(result["not_activated"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
