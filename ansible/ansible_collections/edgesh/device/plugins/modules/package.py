#!/usr/bin/python
# -*- coding: utf-8 -*-
# The package module: a .wmopkg package installed, upgraded or removed as asked, idempotent, with check mode and diff.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
module: package
author: edgesh
short_description: Install, upgrade or remove a signed package on an edgesh device
description:
- Makes one package of the device installed (C(state=present)), installed at the version of a file
  (C(state=latest)) or absent (C(state=absent)), reading the device's state first and changing only
  the difference (C(package show | json)); a second run changes nothing.
- A package is installed from a file on a server (C(server), C(proto), C(user), C(password)) or on a
  media of the device (C(media)), exactly as the CLI's C(package install) does; the device verifies it
  and says whether its next boot will activate it.
- Installed or removed packages take effect at the next boot. With C(reboot=true) the module reboots
  the device when the package changed (or a change of it is still pending) and checks, in the boot
  report, that the package is active at the expected version; one task, so that a rollout that stops
  cannot leave a device installed but not rebooted. An install reboots in the same command
  (C(package install ... confirm reboot)). Over C(ansible.builtin.ssh), with I(version), the task is one
  command line per device, the device itself keeping an installed I(version) (C(install ... version V)).
- Supports check mode and diff. In check mode, when only the file can tell what would change
  (C(state=latest), or a I(version) other than the installed one), the device fetches and verifies
  the file without storing it (C(install ... dry-run)).
version_added: 1.0.0
extends_documentation_fragment:
- edgesh.device.edgesh
options:
  name:
    description:
    - The package's name on the device. The device names a package after its file (C(hello.wmopkg)
      installs C(hello)), so it defaults to the file name of I(src) without C(.wmopkg), and a different
      name is an error.
    - Required when I(src) is not given (C(state=absent)).
    type: str
  src:
    description:
    - Path of the C(.wmopkg) file on the server (I(server)) or on the media (I(media)).
    - Required for C(state=present) when the package is to be installed, and for C(state=latest).
    type: str
  server:
    description:
    - The server holding I(src), C(address[:port]) as the CLI takes it (C(192.0.2.1), C(files.example:8080),
      C([2001:db8::1]:21)).
    - Required with I(src) unless I(media) is given.
    type: str
    aliases: [address]
  proto:
    description:
    - Protocol to fetch I(src) with. Without it the device tries ftp, then tftp.
    type: str
    choices: [ftp, tftp, scp, sftp, http, https]
  user:
    description:
    - User name on the server (ftp, scp, sftp). The device's default is the CLI user.
    type: str
  password:
    description:
    - Password on the server. The device never asks for one in automation mode, so give it here when
      the server wants one. It is masked in the device's history and logs.
    type: str
  media:
    description:
    - Media label of the device (C(external) is the first partition of any external drive) holding I(src);
      excludes I(server), I(proto), I(user) and I(password).
    type: str
  version:
    description:
    - With C(state=present), the version that must be installed; another installed version is
      replaced (upgraded or downgraded) by I(src). Without it, any installed version is present.
    - The device learns a file's version only by reading it; the module fails when the file installed
      turns out to have another version.
    type: str
  state:
    description:
    - C(present) installs the package when it is not installed (or not at I(version)); C(latest) installs
      I(src) when its version is newer than the installed one (never a downgrade); C(absent) removes it.
    type: str
    choices: [present, absent, latest]
    default: present
  persistent:
    description:
    - Makes the package persistent (it survives a factory reset). A persistent package stays persistent
      until it is removed; C(false) leaves the flag as the device keeps it.
    type: bool
    default: false
  reboot:
    description:
    - Reboots the device when the package changed, or when a change of it is still pending, and fails
      unless the boot report shows it active at the installed version (or gone, for C(state=absent)).
    type: bool
    default: false
  timeout:
    description:
    - Seconds the install (the transfer and the verification) and the boot may take; raises the
      connection's command timeout for them when it is lower.
    type: int
notes:
- A package named C(all) cannot be removed alone, because the device reads C(all) as every package.
"""

EXAMPLES = """
- name: Install hello 1.2.0 from an http server, reboot, check that it is active
  edgesh.device.package:
    name: hello
    version: "1.2.0"
    src: pkgs/hello.wmopkg
    server: 192.0.2.10:8080
    proto: http
    reboot: true

- name: Keep the management agent installed, surviving a factory reset
  edgesh.device.package:
    src: mgmt-agent.wmopkg
    media: external
    persistent: true

- name: Upgrade netdiag when the file on the server is newer
  edgesh.device.package:
    src: tools/netdiag.wmopkg
    server: 192.0.2.10
    proto: sftp
    user: deploy
    password: "{{ vault_deploy_password }}"
    state: latest

- name: Remove a package (takes effect at the next boot)
  edgesh.device.package:
    name: thirdparty
    state: absent
"""

RETURN = """
commands:
  description: The commands sent to the device that change it (or, in check mode, would).
  returned: always
  type: list
  sample: ['package install proto http 192.0.2.10:8080 pkgs/hello.wmopkg confirm reboot']
before:
  description: The package as C(package show | json) described it before, or null when it was not installed.
  returned: always
  type: dict
  sample: {"name": "hello", "version": "1.1.0", "state": "active", "verification": "Signed", "persistent": false}
result:
  description: The device's result of the install or remove (docs/automation.md), or null when nothing was sent.
  returned: always
  type: dict
  sample: {"result": "upgraded", "changed": true, "name": "hello", "version": "1.2.0", "previous_version": "1.1.0",
           "verification": "Signed", "will_activate": true, "reboot_required": true, "warnings": []}
rebooted:
  description: Whether the module rebooted the device.
  returned: always
  type: bool
boot:
  description: The boot report when the module rebooted the device (booted_at, packages, deactivated).
  returned: when rebooted
  type: dict
error_class:
  description: The class of the device's error (usage, not-found, refused, transfer, locked, storage, ...).
  returned: failed
  type: str
  sample: refused
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.edgesh import (
    PROTOCOLS,
    EdgeshError,
    conclude,
    find_named,
    run,
    run_lines,
    whole_lines,
)
from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.plan import (
    boot_failures,
    decide,
    describe,
    install_command,
    installed,
    package_name,
    remove_command,
)


def main():
    argument_spec = dict(
        name=dict(type="str"),
        src=dict(type="str"),
        server=dict(type="str", aliases=["address"]),
        proto=dict(type="str", choices=PROTOCOLS),
        user=dict(type="str"),
        password=dict(type="str", no_log=True),
        media=dict(type="str"),
        version=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent", "latest"]),
        persistent=dict(type="bool", default=False),
        reboot=dict(type="bool", default=False),
        timeout=dict(type="int"),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["media", "server"], ["media", "proto"], ["media", "user"], ["media", "password"]],
        required_if=[["state", "latest", ["src"]]],
        required_one_of=[["name", "src"]],
        supports_check_mode=True,
    )
    p = module.params
    name, error = package_name(p["name"], p["src"])
    if error:
        module.fail_json(msg=error)
    if p["state"] == "latest" and p["version"] is not None:
        module.fail_json(msg="version is for state present; state latest takes the version of the file")
    if p["state"] == "absent" and name == "all":
        module.fail_json(msg="a package named all cannot be removed alone: the device reads all as every package")
    if p["src"] and not p["media"] and not p["server"]:
        module.fail_json(msg="src needs server (or media)")

    result = {"changed": False, "commands": [], "before": None, "result": None, "rebooted": False}
    conclude(module, result, lambda: apply(module, name, result), p["timeout"])


def apply(module, name, result):
    p = module.params
    # Where each round trip is a process of the device (OpenSSH), a rollout's task is one command line:
    # the packages, then the install that the device itself skips when the version is there already
    # (`version`), refuses for a file of another version, and follows with its boot (`reboot`).
    prefetched = None
    if (whole_lines(module) and not module.check_mode and p["reboot"] and p["state"] == "present"
            and p["version"] is not None and p["src"]):
        docs, error = run_lines(module, ["package show", install_line(module, p["password"], False)])
        entry = find_named(docs[0]["packages"], name)
        prefetched = (docs[1] if len(docs) > 1 else None, error)
    else:
        entry = find_named(run(module, "package show")["packages"], name)
    result["before"] = entry
    action, reason = decide(entry, p["state"], p["version"], p["persistent"])
    if prefetched is not None and action is None:
        # The device kept what is installed, as decide() says it should (the same rule on both sides).
        action = "install" if prefetched[1] is not None or prefetched[0].get("changed") else None
    if action in ("install", "fetch") and not p["src"]:
        module.fail_json(msg="%s: %s, and src is not given" % (name, reason), **result)

    after = entry
    if action == "remove":
        command = remove_command(name)
        result["commands"].append(command)
        result["changed"] = True
        if not module.check_mode:
            result["result"] = run(module, command)
        after = dict(entry, state="removed")
    elif action in ("install", "fetch"):
        after = install(module, name, action, entry, result, prefetched)

    if module._diff:
        result["diff"] = {"before": describe(entry), "after": describe(after),
                          "before_header": "%s (before)" % name, "after_header": "%s (after)" % name}

    pending = after is not None and after.get("state") in ("pending", "removed")
    if result["rebooted"]:
        check_boot(module, name, after, result)
    elif p["reboot"] and (result["changed"] or pending):
        reboot_and_check(module, name, after, result)
    elif p["reboot"] and p["state"] != "absent" and installed(after) and after.get("state") != "active":
        module.fail_json(msg="%s %s is installed but not active: %s"
                         % (name, after.get("version"), after.get("reason") or after.get("state")), **result)


def install_line(module, password, dry_run):
    """The module's `package install …`: a downgrade confirmed and the version required only when the task
    names the version it wants; with reboot, the boot in the same command when the install changed the
    device (no moment in which the device holds the package installed but not rebooted)."""
    p = module.params
    explicit_version = p["state"] == "present" and p["version"] is not None
    return install_command(p["src"], p["server"], p["proto"], p["media"], p["user"], password,
                           p["persistent"], confirm=explicit_version, dry_run=dry_run,
                           reboot=p["reboot"] and not dry_run, version=p["version"] if explicit_version else None)


def install(module, name, action, entry, result, prefetched=None):
    """Installs src (or, in check mode, says what that would do); returns the package entry expected after.
    `prefetched` is (document, error) of an install already sent in the same line as `package show`."""
    p = module.params
    explicit_version = p["state"] == "present" and p["version"] is not None
    dry_run = module.check_mode

    # The change as the result shows it: without dry-run, and a password never appears in it.
    shown = install_line(module, "****" if p["password"] else None, False)
    if dry_run and action == "install" and not installed(entry):
        # Nothing to compare with: an install changes the device whatever the file holds.
        result["commands"].append(shown)
        result["changed"] = True
        return {"name": name, "version": p["version"] or "?",
                "state": "pending", "verification": None, "persistent": p["persistent"]}
    try:
        if prefetched is not None:
            done, error = prefetched
            if error is not None:
                raise error
        else:
            done = run(module, install_line(module, p["password"], dry_run))
    except EdgeshError as e:
        if p["state"] == "latest" and e.error_class == "not-confirmed":
            # The file is older than the installed package: latest never downgrades.
            result["result"] = {"result": "unchanged", "changed": False, "reason": e.message}
            return entry
        raise
    boot = done.pop("boot", None)
    result["result"] = done
    if done.get("changed"):
        result["commands"].append(shown)
        result["changed"] = True
    if boot is not None:
        result["rebooted"] = True
        result["boot"] = boot
    if explicit_version and done.get("version") != p["version"]:
        module.fail_json(msg="%s has version %s, not %s as asked%s"
                         % (p["src"], done.get("version"), p["version"],
                            "" if dry_run or not done.get("changed")
                            else " (it is installed and active now)" if boot is not None
                            else " (it is installed now, pending a reboot)"),
                         **result)
    if not done.get("changed"):
        return entry
    return {"name": done["name"], "version": done["version"], "state": "pending",
            "verification": done.get("verification"), "persistent": done.get("persistent")}


def reboot_and_check(module, name, after, result):
    """Reboots (unless in check mode) and fails unless the boot left the package as asked."""
    result["commands"].append("reboot confirm")
    result["changed"] = True
    if module.check_mode:
        return
    result["boot"] = run(module, "reboot confirm")
    result["rebooted"] = True
    check_boot(module, name, after, result)


def check_boot(module, name, after, result):
    """Fails unless the boot report in the result left the package as asked."""
    report = result["boot"]
    if module.params["state"] == "absent":
        if any(line["name"] == name for line in report.get("packages", [])):
            module.fail_json(msg="%s is still installed after the reboot" % name, **result)
        return
    failures = boot_failures(report, [(name, after.get("version") if after else None)])
    if failures:
        module.fail_json(msg="; ".join(failures), **result)


if __name__ == "__main__":
    main()
