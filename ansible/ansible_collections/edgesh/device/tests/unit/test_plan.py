# -*- coding: utf-8 -*-
# What the package and reboot modules decide from the device's documents, case by case.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import unittest

import _loader  # noqa: F401  (must come before the collection's imports)
from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.plan import (
    boot_failures,
    decide,
    describe,
    install_command,
    package_name,
    parse_expectations,
    remove_command,
)


def entry(name="hello", version="1.2.0", state="active", verification="Signed", persistent=False, reason=None):
    return {"name": name, "version": version, "state": state, "verification": verification,
            "persistent": persistent, "reason": reason, "description": "", "active_version": None}


class PackageName(unittest.TestCase):
    def test_cases(self):
        cases = [
            ("from the file name", (None, "pkgs/hello.wmopkg"), ("hello", None)),
            ("given and the same", ("hello", "hello.wmopkg"), ("hello", None)),
            ("given alone", ("hello", None), ("hello", None)),
            ("another name than the file's", ("world", "pkgs/hello.wmopkg"), (None, "names the package after its file")),
            ("not a .wmopkg", (None, "hello.ipk"), (None, "must name a .wmopkg file")),
            ("upper-case extension is not the extension", (None, "hello.WMOPKG"), (None, "must name a .wmopkg file")),
        ]
        for title, args, (name, error) in cases:
            got_name, got_error = package_name(*args)
            self.assertEqual(got_name, name, title)
            if error is None:
                self.assertIsNone(got_error, title)
            else:
                self.assertIn(error, got_error, title)


class Decide(unittest.TestCase):
    def test_cases(self):
        cases = [
            ("absent, not installed", (None, "absent"), None),
            ("absent, installed", (entry(), "absent"), "remove"),
            ("absent, removed but still active: already absent", (entry(state="removed"), "absent"), None),
            ("present, not installed", (None, "present"), "install"),
            ("present, removed: installed again", (entry(state="removed"), "present"), "install"),
            ("present, any version", (entry(version="0.9"), "present"), None),
            ("present, that version", (entry(), "present", "1.2.0"), None),
            ("present, pending at that version", (entry(state="pending"), "present", "1.2.0"), None),
            ("present, another version", (entry(version="1.1.0"), "present", "1.2.0"), "install"),
            ("present, a newer version: replaced too", (entry(version="2.0"), "present", "1.2.0"), "install"),
            ("present, persistent asked", (entry(), "present", None, True), "install"),
            ("present, persistent already", (entry(persistent=True), "present", None, True), None),
            ("present, Invalid in the store", (entry(state="inactive", verification="Invalid"), "present"), "install"),
            ("present, Untrusted: a reinstall would not change it", (entry(state="inactive", verification="Untrusted"),
                                                                     "present", "1.2.0"), None),
            ("latest: only the file can tell", (entry(), "latest"), "fetch"),
            ("latest, not installed", (None, "latest"), "fetch"),
        ]
        for title, args, action in cases:
            self.assertEqual(decide(*args)[0], action, title)


class Commands(unittest.TestCase):
    def test_install(self):
        cases = [
            ("http server", dict(src="pkgs/hello.wmopkg", server="192.0.2.1:8080", proto="http"),
             "package install proto http 192.0.2.1:8080 pkgs/hello.wmopkg"),
            ("ftp, tftp fallback: no proto", dict(src="hello.wmopkg", server="192.0.2.1"),
             "package install 192.0.2.1 hello.wmopkg"),
            ("media", dict(src="path/on/media/hello.wmopkg", media="external", persistent=True),
             "package install persistent media external path/on/media/hello.wmopkg"),
            ("user and a password with blanks and quotes", dict(src="a.wmopkg", server="[2001:db8::1]:22", proto="sftp",
                                                                user="deploy", password='p "w" \\ d'),
             'package install proto sftp user deploy password "p \\"w\\" \\\\ d" [2001:db8::1]:22 a.wmopkg'),
            ("a path with a blank", dict(src="my pkgs/a.wmopkg", server="h"), 'package install h "my pkgs/a.wmopkg"'),
            ("confirmed", dict(src="a.wmopkg", server="h", confirm=True), "package install h a.wmopkg confirm"),
            ("dry run", dict(src="a.wmopkg", server="h", dry_run=True), "package install h a.wmopkg dry-run"),
            ("confirmed, rebooting in the same command", dict(src="a.wmopkg", server="h", confirm=True, reboot=True),
             "package install h a.wmopkg confirm reboot"),
        ]
        for title, kwargs, command in cases:
            self.assertEqual(install_command(**kwargs), command, title)

    def test_remove_quotes_the_name(self):
        # A package called `confirm` stays a name: quoted words are values, never keywords.
        self.assertEqual(remove_command("hello"), 'package remove "hello" confirm')
        self.assertEqual(remove_command("confirm"), 'package remove "confirm" confirm')


class Boot(unittest.TestCase):
    report = {
        "booted_at": "2026-11-21T06:28:09.000Z",
        "packages": [
            {"name": "hello", "version": "1.2.0", "verification": "Signed", "activated": True, "reason": "activated"},
            {"name": "netdiag", "version": "0.9", "verification": "Unsigned", "activated": False,
             "reason": "unsigned, allow-untrusted is off"},
        ],
        "deactivated": [],
    }

    def test_expectations(self):
        self.assertEqual(parse_expectations(["hello", "hello=1.2.0", " x = 2 "]),
                         [("hello", None), ("hello", "1.2.0"), ("x", "2")])
        self.assertRaises(ValueError, parse_expectations, ["=1.0"])

    def test_failures(self):
        cases = [
            ("active", [("hello", None)], []),
            ("active at that version", [("hello", "1.2.0")], []),
            ("active at another version", [("hello", "1.3.0")], ["hello 1.2.0 is active, not 1.3.0"]),
            ("not activated, with the device's reason", [("netdiag", None)],
             ["netdiag 0.9 was not activated: unsigned, allow-untrusted is off"]),
            ("not installed", [("ghost", None)], ["ghost is not installed"]),
        ]
        for title, expectations, failures in cases:
            self.assertEqual(boot_failures(self.report, expectations), failures, title)


class Describe(unittest.TestCase):
    def test_diff_lines(self):
        self.assertEqual(describe(None), "")
        self.assertEqual(describe(entry(state="removed")), "")
        self.assertEqual(describe(entry(persistent=True)), "hello 1.2.0 (active, Signed, persistent)\n")


if __name__ == "__main__":
    unittest.main()
