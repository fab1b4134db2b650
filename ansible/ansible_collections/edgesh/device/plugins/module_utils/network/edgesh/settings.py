# -*- coding: utf-8 -*-
# What the feed and updater modules decide from the device's documents: the commands that make the difference.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.edgesh import quote

# `>= 2.0`, `>=2.0`, `(>= 2.0)`: the relations of docs/updater.md, as the CLI reads a constraint.
CONSTRAINT = re.compile(r"^\(?\s*(<<|<=|>=|>>|=)\s*([^\s()]+)\s*\)?$")

DEFAULT_PRIORITY = 50


def same_url(a, b):
    """Whether two feed URLs name the same place as the device writes them (it drops a trailing slash)."""
    return a is not None and b is not None and a.rstrip("/") == b.rstrip("/")


def feed_commands(entry, name, state, url, persistent):
    """The commands (at the top level) that make the feed `name` as asked, given its entry (or None)."""
    if state == "absent":
        return ["package no feed %s" % quote(name)] if entry is not None else []
    if entry is not None and same_url(entry.get("url"), url) and bool(entry.get("persistent")) == persistent:
        return []
    return ["package feed %s%s %s" % ("persistent " if persistent else "", quote(name), quote(url))]


def parse_constraint(text):
    """`>= 2.0` as {"relation": ">=", "version": "2.0"}; None for None; ValueError for anything else."""
    if text is None:
        return None
    m = CONSTRAINT.match(text.strip())
    if m is None:
        raise ValueError("version %r is not a relation and a version (>= 2.0, << 3, = 1.2.0)" % text)
    return {"relation": m.group(1), "version": m.group(2)}


def request_command(request):
    """The updater command that sets an explicit request."""
    words = ["updater", request["kind"], quote(request["name"])]
    if request.get("constraint"):
        c = request["constraint"]
        words += ["version", quote("%s %s" % (c["relation"], c["version"]))]
    if request.get("priority", DEFAULT_PRIORITY) != DEFAULT_PRIORITY:
        words += ["priority", str(request["priority"])]
    return " ".join(words)


def _same_request(current, wanted):
    return (current["kind"] == wanted["kind"]
            and (current.get("constraint") or None) == (wanted.get("constraint") or None)
            and current.get("priority", DEFAULT_PRIORITY) == wanted.get("priority", DEFAULT_PRIORITY))


def normalize_requests(requests):
    """The module's `requests` option as the device's request documents (kind, name, constraint, priority, state)."""
    wanted = []
    names = set()
    for r in requests or []:
        if r["name"] in names:
            raise ValueError("requests name %s twice: the device keeps one explicit request per package" % r["name"])
        names.add(r["name"])
        kind = r.get("kind") or "install"
        constraint = parse_constraint(r.get("version"))
        if constraint is not None and kind != "install":
            raise ValueError("request %s: version is for install requests only" % r["name"])
        priority = r.get("priority")
        wanted.append({"kind": kind, "name": r["name"], "constraint": constraint,
                       "priority": DEFAULT_PRIORITY if priority is None else priority,
                       "state": r.get("state") or "present", "any_kind": r.get("kind") is None})
    return wanted


def request_commands(status, wanted, exclusive):
    """The commands that make the explicit requests of `updater show | json` as `wanted` says."""
    explicit = dict((r["name"], r) for r in status.get("requests", []) if r.get("source") == "explicit")
    commands = []
    dropped = set()
    for w in wanted:
        current = explicit.get(w["name"])
        if w["state"] == "absent":
            # absent drops the explicit request about the name, of the kind given (or either).
            if current is not None and (current["kind"] == w["kind"] or w.get("any_kind")):
                commands.append("updater no %s %s" % (current["kind"], quote(w["name"])))
                dropped.add(w["name"])
            continue
        if current is None or not _same_request(current, w):
            commands.append(request_command(w))
    if exclusive:
        listed = set(w["name"] for w in wanted if w["state"] == "present")
        for name in sorted(explicit):
            if name not in listed and name not in dropped:
                commands.append("updater no %s %s" % (explicit[name]["kind"], quote(name)))
    return commands


def settings_commands(settings, approval, delay, reboot):
    """The commands that make the updater's settings as asked (None: leave as it is)."""
    commands = []
    if approval is not None and bool(settings.get("approval")) != approval:
        commands.append("updater approval %s" % ("on" if approval else "off"))
    if delay is not None and settings.get("delay_hours") != delay:
        commands.append("updater delay %d" % delay)
    if reboot is not None and settings.get("reboot") != reboot:
        commands.append("updater reboot %s" % reboot)
    return commands


def updater_state(status):
    """The part of `updater show | json` the module manages, for diff: the settings and the explicit requests."""
    return {
        "settings": dict(status.get("settings", {})),
        "requests": sorted(
            ({"kind": r["kind"], "name": r["name"], "constraint": r.get("constraint"), "priority": r.get("priority")}
             for r in status.get("requests", []) if r.get("source") == "explicit"),
            key=lambda r: r["name"]),
    }


def expected_state(before, wanted, exclusive, approval, delay, reboot):
    """`updater_state` as it will be once the commands ran (what check mode and diff show)."""
    settings = dict(before["settings"])
    if approval is not None:
        settings["approval"] = approval
    if delay is not None:
        settings["delay_hours"] = delay
    if reboot is not None:
        settings["reboot"] = reboot
    requests = dict((r["name"], r) for r in before["requests"])
    if exclusive:
        keep = set(w["name"] for w in wanted if w["state"] == "present")
        requests = dict((n, r) for n, r in requests.items() if n in keep)
    for w in wanted:
        if w["state"] == "absent":
            current = requests.get(w["name"])
            if current is not None and (current["kind"] == w["kind"] or w.get("any_kind")):
                del requests[w["name"]]
        else:
            requests[w["name"]] = {"kind": w["kind"], "name": w["name"], "constraint": w["constraint"],
                                   "priority": w["priority"]}
    return {"settings": settings, "requests": [requests[n] for n in sorted(requests)]}
