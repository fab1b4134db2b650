#!/usr/bin/python
# -*- coding: utf-8 -*-
# The updater module: the updater's settings and explicit requests made as described, idempotent, with check mode and diff.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
module: updater
author: edgesh
short_description: Set the updater's requests and settings on an edgesh device
description:
- Makes the device's updater (docs/updater.md) hold the explicit requests and the settings asked,
  reading them first (C(updater show | json)) and sending only the commands that make the difference;
  a second run changes nothing. Requests recorded by C(package install NAME) and local ones (a file
  install) are the device's own and are left alone.
- With C(run=true) the module then runs the updater once (C(updater run)), which updates the feeds, applies the
  plan when allowed (approval, delay) and returns the result; C(changed) says whether a
  plan was applied.
- Supports check mode (nothing is sent but C(updater show); a run is not made) and diff.
version_added: 1.1.0
extends_documentation_fragment:
- edgesh.device.edgesh
options:
  requests:
    description:
    - Explicit requests. The device keeps one explicit request per package name; C(uninstall NAME)
      replaces C(install NAME).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The package.
        type: str
        required: true
      kind:
        description:
        - C(install) (installed and kept current) or C(uninstall) (absent).
        - With C(state=absent) and no kind, the explicit request of either kind is dropped.
        type: str
        choices: [install, uninstall]
      version:
        description: For C(install), a relation and a version the package must meet (C(>= 2.0), C(<< 3), C(= 1.2.0)).
        type: str
      priority:
        description: 0 to 100; the higher wins when requests contradict each other.
        type: int
        default: 50
      state:
        description: C(present) sets the request; C(absent) drops it.
        type: str
        choices: [present, absent]
        default: present
  exclusive:
    description:
    - Drop every explicit request of the device that I(requests) does not name as present.
    type: bool
    default: false
  approval:
    description: Whether a run applies only approved plans (C(approval on|off)); omitted, left as it is.
    type: bool
  delay:
    description: Hours a plan waits before it applies by itself (0 to 8760; 0, no delay); omitted, left as it is.
    type: int
  reboot:
    description: Whether an applied plan reboots the device (C(auto)) or waits for a reboot (C(manual)); omitted, left as it is.
    type: str
    choices: [auto, manual]
  run:
    description:
    - After the settings, run the updater once (C(updater run)). Not done in check mode.
    type: bool
    default: false
  timeout:
    description:
    - Seconds the run (feeds, downloads, a boot with C(reboot=auto)) may take; raises the connection's
      command timeout for it when it is lower.
    type: int
"""

EXAMPLES = """
- name: Keep the agent installed and current, telnetd absent, plans applied after a day
  edgesh.device.updater:
    requests:
      - name: mgmt-agent
        version: ">= 2.0"
        priority: 60
      - name: telnetd
        kind: uninstall
    exclusive: true
    approval: false
    delay: 24
    reboot: manual

- name: Apply what the feeds offer now, rebooting when a plan was applied
  edgesh.device.updater:
    reboot: auto
    run: true
    timeout: 600
"""

RETURN = """
commands:
  description: The commands sent to the device that change it (or, in check mode, would).
  returned: always
  type: list
  sample: ['updater install mgmt-agent version ">= 2.0" priority 60', 'updater delay 24']
before:
  description: The explicit requests and the settings before (from C(updater show | json)).
  returned: always
  type: dict
  sample: {"settings": {"approval": false, "delay_hours": 0, "reboot": "manual"}, "requests": []}
after:
  description: The explicit requests and the settings after (in check mode, as they would be).
  returned: always
  type: dict
run:
  description: The document of C(updater run | json) (result, plan_id, plan, boot) when the module ran the updater, else null.
  returned: always
  type: dict
error_class:
  description: The class of the device's error (usage, not-found, refused, transfer, locked, storage, ...).
  returned: failed
  type: str
  sample: usage
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.edgesh import (
    conclude,
    run,
)
from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.settings import (
    expected_state,
    normalize_requests,
    request_commands,
    settings_commands,
    updater_state,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            requests=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                kind=dict(type="str", choices=["install", "uninstall"]),
                version=dict(type="str"),
                priority=dict(type="int", default=50),
                state=dict(type="str", default="present", choices=["present", "absent"]),
            )),
            exclusive=dict(type="bool", default=False),
            approval=dict(type="bool"),
            delay=dict(type="int"),
            reboot=dict(type="str", choices=["auto", "manual"]),
            run=dict(type="bool", default=False),
            timeout=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["delay"] is not None and not 0 <= p["delay"] <= 8760:
        module.fail_json(msg="delay must be 0 to 8760 hours, not %d" % p["delay"])
    for r in p["requests"]:
        if not 0 <= r["priority"] <= 100:
            module.fail_json(msg="request %s: priority must be 0 to 100, not %d" % (r["name"], r["priority"]))
    try:
        wanted = normalize_requests(p["requests"])
    except ValueError as e:
        module.fail_json(msg=str(e))

    result = {"changed": False, "commands": [], "before": None, "after": None, "run": None}
    conclude(module, result, lambda: apply(module, wanted, result), p["timeout"])


def apply(module, wanted, result):
    p = module.params
    status = run(module, "updater show")
    before = updater_state(status)
    result["before"] = before
    commands = request_commands(status, wanted, p["exclusive"])
    commands += settings_commands(status.get("settings", {}), p["approval"], p["delay"], p["reboot"])
    for command in commands:
        result["commands"].append(command)
        result["changed"] = True
        if not module.check_mode:
            run(module, command)
    if module.check_mode:
        result["after"] = expected_state(before, wanted, p["exclusive"], p["approval"], p["delay"], p["reboot"])
    else:
        result["after"] = updater_state(run(module, "updater show")) if commands else before
    if module._diff:
        result["diff"] = {"before": before, "after": result["after"],
                          "before_header": "updater (before)", "after_header": "updater (after)"}
    if p["run"] and not module.check_mode:
        done = run(module, "updater run")
        result["run"] = done
        if done.get("changed"):
            result["commands"].append("updater run")
            result["changed"] = True
        if done.get("result") == "failed":
            module.fail_json(msg="updater run failed: %s" % (done.get("message") or "unknown error"),
                             error_class="failed", **result)


if __name__ == "__main__":
    main()
