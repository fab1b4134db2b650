# -*- coding: utf-8 -*-
# What the package and reboot modules decide from the device's documents: no I/O, so that it can be tested alone.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.edgesh import quote

SUFFIX = ".wmopkg"


def package_name(name, src):
    """The package's name on the device: `name`, else the file name of `src` without `.wmopkg`.

    The device names a package after its file, so a `name` that differs from the file's is an error.
    Returns (name, error).
    """
    from_src = None
    if src:
        base = posixpath.basename(src)
        if not base.endswith(SUFFIX):
            return None, "src must name a .wmopkg file, not %s" % base
        from_src = base[: -len(SUFFIX)]
    if name and from_src and name != from_src:
        return None, "the device names the package after its file: src %s installs %s, not %s" % (src, from_src, name)
    return name or from_src, None


def installed(entry):
    """Whether an entry of `package show` is installed (a removed package is only still active)."""
    return entry is not None and entry.get("state") != "removed"


def decide(entry, state, version=None, persistent=False):
    """What the package module must do about one package, given its entry in `package show`.

    Returns (action, reason): action is "install", "remove", "fetch" (state latest: only the file can
    tell whether it is newer) or None when the device is already as asked.
    """
    if state == "absent":
        if installed(entry):
            return "remove", "%s %s is installed" % (entry["name"], entry["version"])
        return None, "not installed"
    if state == "latest":
        return "fetch", "state latest compares the file with the installed version"
    if not installed(entry):
        return "install", "not installed"
    if version is not None and entry.get("version") != version:
        return "install", "version %s is installed, %s is asked" % (entry.get("version"), version)
    if persistent and not entry.get("persistent"):
        return "install", "installed but not persistent"
    if entry.get("verification") == "Invalid":
        return "install", "the stored package is Invalid: %s" % (entry.get("reason") or "verification failed")
    return None, "%s %s is installed" % (entry["name"], entry["version"])


def install_command(src, server=None, proto=None, media=None, user=None, password=None,
                    persistent=False, confirm=False, dry_run=False, reboot=False, version=None):
    """`package install …` for a file on a server or a media (docs/shell.md, docs/automation.md); with
    `reboot`, the device reboots in the same command when the install changed it."""
    words = ["package", "install"]
    if persistent:
        words.append("persistent")
    if media:
        words += ["media", quote(media)]
    else:
        if proto:
            words += ["proto", proto]
        if user:
            words += ["user", quote(user)]
        if password:
            words += ["password", quote(password)]
        words.append(quote(server))
    words.append(quote(src))
    if dry_run:
        words.append("dry-run")
    if confirm:
        words.append("confirm")
    if reboot:
        words.append("reboot")
    if version is not None:
        words += ["version", quote(version)]
    return " ".join(words)


def remove_command(name):
    """`package remove NAME confirm`; the name is quoted so that a package called `all` or `confirm` stays a name."""
    return 'package remove "%s" confirm' % name.replace("\\", "\\\\").replace('"', '\\"')


def parse_expectations(items):
    """`NAME` or `NAME=VERSION` strings as (name, version or None) pairs; raises ValueError on an empty name."""
    pairs = []
    for item in items or []:
        name, _, version = item.partition("=")
        name = name.strip()
        if not name:
            raise ValueError("expect: %r names no package" % item)
        pairs.append((name, version.strip() or None))
    return pairs


def boot_failures(report, expectations):
    """Why a boot report does not satisfy (name, version) expectations: one sentence per failure."""
    lines = dict((line["name"], line) for line in report.get("packages", []))
    failures = []
    for name, version in expectations:
        line = lines.get(name)
        if line is None:
            failures.append("%s is not installed" % name)
        elif not line.get("activated"):
            failures.append("%s %s was not activated: %s" % (name, line.get("version"), line.get("reason")))
        elif version is not None and line.get("version") != version:
            failures.append("%s %s is active, not %s" % (name, line.get("version"), version))
    return failures


def describe(entry):
    """One line for a diff: `hello 1.2.0 (active, Signed, persistent)`, empty when absent."""
    if not installed(entry):
        return ""
    how = [entry.get("state"), entry.get("verification")]
    if entry.get("persistent"):
        how.append("persistent")
    return "%s %s (%s)\n" % (entry["name"], entry.get("version"), ", ".join(h for h in how if h))
