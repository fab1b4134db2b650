#!/usr/bin/python
# -*- coding: utf-8 -*-
# The feed module: a package feed of the device configured or removed as asked, idempotent, with check mode and diff.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
module: feed
author: edgesh
short_description: Configure or remove a package feed on an edgesh device
description:
- Makes one feed (a signed package repository, docs/feeds.md) of the device configured at a URL
  (C(state=present)) or absent (C(state=absent)), reading the device's feeds first
  (C(package show feeds | json)) and changing only the difference; a second run changes nothing.
- A feed's index is verified with the device's trust store (the C(trust) context); there is no key
  option per feed. With C(update=true) the module fetches the feed's index when the feed was added or
  changed, or has none yet, and fails when the device refuses it.
- Supports check mode and diff.
version_added: 1.1.0
extends_documentation_fragment:
- edgesh.device.edgesh
options:
  name:
    description:
    - The feed's name on the device (letters, digits, C(-), C(_), C(.)).
    type: str
    required: true
  url:
    description:
    - Where the feed is, as the CLI's C(feed NAME URL) takes it (C(http://192.0.2.10/feed),
      C(sftp://deploy@192.0.2.10/srv/feed), C(media:external/feed)). Required for C(state=present).
    - The device writes it without a trailing slash; the module compares it so.
    type: str
  persistent:
    description:
    - Whether the feed survives a factory reset (C(feed persistent NAME URL)). The flag is set as given;
      C(false) on a persistent feed makes it not persistent.
    type: bool
    default: false
  state:
    description:
    - C(present) adds the feed or changes its URL or flag; C(absent) removes it with its index.
    type: str
    choices: [present, absent]
    default: present
  update:
    description:
    - With C(state=present), fetch the feed's index (C(package update NAME)) when the feed was added or
      changed, or has never been updated. Not done in check mode.
    type: bool
    default: false
"""

EXAMPLES = """
- name: The vendor's feed, kept through a factory reset, with its index fetched
  edgesh.device.feed:
    name: main
    url: http://192.0.2.10/feed
    persistent: true
    update: true

- name: No more third-party feed
  edgesh.device.feed:
    name: extra
    state: absent
"""

RETURN = """
commands:
  description: The commands sent to the device that change it (or, in check mode, would).
  returned: always
  type: list
  sample: ['package feed persistent main http://192.0.2.10/feed', 'package update main']
before:
  description: The feed as C(package show feeds | json) described it before, or null when there was none.
  returned: always
  type: dict
  sample: {"name": "main", "url": "http://192.0.2.10/feed", "persistent": false, "packages": 7}
result:
  description: The device's result of the C(feed) or C(no feed) command (docs/automation.md), or null when nothing was sent.
  returned: always
  type: dict
  sample: {"result": "added", "changed": true, "name": "main", "url": "http://192.0.2.10/feed", "persistent": true}
update:
  description: The device's result of C(update NAME) when the module fetched the index, else null.
  returned: always
  type: dict
error_class:
  description: The class of the device's error (usage, not-found, refused, transfer, locked, storage, ...).
  returned: failed
  type: str
  sample: transfer
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.edgesh import (
    conclude,
    find_named,
    quote,
    run,
)
from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.settings import (
    feed_commands,
)


def describe(entry):
    """A feed as the diff shows it."""
    if entry is None:
        return {}
    return {"name": entry["name"], "url": entry["url"], "persistent": bool(entry.get("persistent"))}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            url=dict(type="str"),
            persistent=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            update=dict(type="bool", default=False),
        ),
        required_if=[["state", "present", ["url"]]],
        supports_check_mode=True,
    )
    result = {"changed": False, "commands": [], "before": None, "result": None, "update": None}
    conclude(module, result, lambda: apply(module, result))


def apply(module, result):
    p = module.params
    entry = find_named(run(module, "package show feeds")["feeds"], p["name"])
    result["before"] = entry
    commands = feed_commands(entry, p["name"], p["state"], p["url"], p["persistent"])
    after = None
    if p["state"] == "present":
        after = {"name": p["name"], "url": p["url"].rstrip("/"), "persistent": p["persistent"]}
    for command in commands:
        result["commands"].append(command)
        result["changed"] = True
        if not module.check_mode:
            result["result"] = run(module, command)
            if p["state"] == "present":
                after = describe(result["result"])
                # The device's word decides: the same feed written another way is no change.
                result["changed"] = bool(result["result"].get("changed"))
                if not result["changed"]:
                    result["commands"].remove(command)
    if p["update"] and p["state"] == "present" and (result["changed"] or entry is None or entry.get("packages") is None):
        command = "package update %s" % quote(p["name"])
        result["commands"].append(command)
        result["changed"] = True
        if not module.check_mode:
            result["update"] = run(module, command)
    if module._diff:
        result["diff"] = {"before": describe(entry), "after": after or {},
                          "before_header": "feed %s (before)" % p["name"],
                          "after_header": "feed %s (after)" % p["name"]}


if __name__ == "__main__":
    main()
