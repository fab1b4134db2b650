# -*- coding: utf-8 -*-
# What the feed and updater modules send, given the device's documents: only the difference, nothing twice.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import unittest

import _loader  # noqa: F401  (must come before the collection's imports)
from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.edgesh import find_named
from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.settings import (
    expected_state,
    feed_commands,
    normalize_requests,
    parse_constraint,
    request_commands,
    settings_commands,
    updater_state,
)

MAIN = {"name": "main", "url": "http://192.0.2.10/feed", "persistent": False, "packages": 7}


def status(requests=(), approval=False, delay=0, reboot="manual"):
    return {"requests": list(requests), "settings": {"approval": approval, "delay_hours": delay, "reboot": reboot},
            "last_run": None, "pending": None, "approved": []}


def req(name, kind="install", constraint=None, priority=50, source="explicit"):
    return {"kind": kind, "name": name, "constraint": constraint, "priority": priority, "source": source,
            "shadowed": False}


class Feed(unittest.TestCase):
    def test_cases(self):
        cases = [
            ("absent and not there", (None, "main", "present", MAIN["url"], False),
             ["package feed main http://192.0.2.10/feed"]),
            ("the same", (MAIN, "main", "present", MAIN["url"], False), []),
            ("the same with a trailing slash", (MAIN, "main", "present", MAIN["url"] + "/", False), []),
            ("another url", (MAIN, "main", "present", "http://192.0.2.11/feed", False),
             ["package feed main http://192.0.2.11/feed"]),
            ("made persistent", (MAIN, "main", "present", MAIN["url"], True),
             ["package feed persistent main http://192.0.2.10/feed"]),
            ("a url the CLI must read quoted", (None, "main", "present", "media:external/my feed", False),
             ['package feed main "media:external/my feed"']),
            ("removed", (MAIN, "main", "absent", None, False), ["package no feed main"]),
            ("absent already", (None, "main", "absent", None, False), []),
        ]
        for title, args, expected in cases:
            self.assertEqual(feed_commands(*args), expected, title)

    def test_find(self):
        self.assertIs(find_named([MAIN], "main"), MAIN)
        self.assertIsNone(find_named([MAIN], "mai"))


class Requests(unittest.TestCase):
    def test_constraint(self):
        self.assertEqual(parse_constraint(">= 2.0"), {"relation": ">=", "version": "2.0"})
        self.assertEqual(parse_constraint("<<3"), {"relation": "<<", "version": "3"})
        self.assertIsNone(parse_constraint(None))
        with self.assertRaises(ValueError):
            parse_constraint("2.0")

    def test_normalize_refuses(self):
        with self.assertRaises(ValueError):
            normalize_requests([{"name": "a"}, {"name": "a", "kind": "uninstall"}])
        with self.assertRaises(ValueError):
            normalize_requests([{"name": "a", "kind": "uninstall", "version": ">= 1"}])

    def test_commands(self):
        ge2 = {"relation": ">=", "version": "2.0"}
        cases = [
            ("new", status(), [{"name": "a", "version": ">= 2.0", "priority": 60}], False,
             ['updater install a version ">= 2.0" priority 60']),
            ("the same", status([req("a", constraint=ge2, priority=60)]),
             [{"name": "a", "version": ">=2.0", "priority": 60}], False, []),
            ("another priority", status([req("a", priority=60)]), [{"name": "a"}], False, ["updater install a"]),
            ("install becomes uninstall", status([req("a")]), [{"name": "a", "kind": "uninstall"}], False,
             ["updater uninstall a"]),
            ("a recorded request is not an explicit one", status([req("a", source="package")]),
             [{"name": "a"}], False, ["updater install a"]),
            ("absent of either kind", status([req("t", kind="uninstall")]), [{"name": "t", "state": "absent"}],
             False, ["updater no uninstall t"]),
            ("absent of another kind stays", status([req("t", kind="uninstall")]),
             [{"name": "t", "kind": "install", "state": "absent"}], False, []),
            ("absent already", status(), [{"name": "t", "state": "absent"}], False, []),
            ("exclusive drops the others, not the recorded ones",
             status([req("a"), req("b", kind="uninstall"), req("c", source="local")]), [{"name": "a"}], True,
             ["updater no uninstall b"]),
        ]
        for title, st, requests, exclusive, expected in cases:
            wanted = normalize_requests([dict({"kind": None, "version": None, "priority": None, "state": None}, **r)
                                         for r in requests])
            self.assertEqual(request_commands(st, wanted, exclusive), expected, title)
            # What check mode and diff say is what the device then holds.
            after = expected_state(updater_state(st), wanted, exclusive, None, None, None)
            for w in wanted:
                names = [r["name"] for r in after["requests"]]
                self.assertEqual(w["name"] in names, w["state"] == "present"
                                 or any(r["name"] == w["name"] and r["kind"] != w["kind"] and not w["any_kind"]
                                        for r in updater_state(st)["requests"]), title)


class Settings(unittest.TestCase):
    def test_cases(self):
        s = status()["settings"]
        self.assertEqual(settings_commands(s, None, None, None), [])
        self.assertEqual(settings_commands(s, False, 0, "manual"), [])
        self.assertEqual(settings_commands(s, True, 24, "auto"),
                         ["updater approval on", "updater delay 24", "updater reboot auto"])
        self.assertEqual(settings_commands(status(approval=True, delay=24)["settings"], False, 0, None),
                         ["updater approval off", "updater delay 0"])

    def test_expected(self):
        before = updater_state(status([req("a")]))
        after = expected_state(before, [], False, True, 12, None)
        self.assertEqual(after["settings"], {"approval": True, "delay_hours": 12, "reboot": "manual"})
        self.assertEqual(after["requests"], before["requests"])


if __name__ == "__main__":
    unittest.main()
