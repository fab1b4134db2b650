# -*- coding: utf-8 -*-
# How the collection reads the CLI: prompts and errors in network_cli's windows, error lines, quoting, fact subsets.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import unittest

import _loader  # noqa: F401  (must come before the collection's imports)
from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.edgesh import parse_error, quote
from ansible_collections.edgesh.device.plugins.modules.facts import subsets
from ansible_collections.edgesh.device.plugins.terminal.edgesh import TerminalModule


def strip(window):
    for regex in TerminalModule.ansi_re:
        window = regex.sub(b"", window)
    return window


def is_prompt(window):
    return any(r.search(strip(window)) for r in TerminalModule.terminal_stdout_re)


def is_error(window):
    return any(r.search(strip(window)) for r in TerminalModule.terminal_stderr_re)


class Prompt(unittest.TestCase):
    def test_windows(self):
        # Windows as network_cli sees them: the last bytes received, control sequences still in.
        cases = [
            ("the first prompt of a session", b"edge-001:/> ", True),
            ("after output", b"Hostname: edge-001\r\nedge-001:/> ", True),
            ("in a context", b"}\r\nedge-001:/package/#> ", True),
            ("without the trailing blank", b"done\r\nedge-001:/boot/#>", True),
            ("after a JSON document", b'  "reboot_pending": false\r\n}\r\nexample:/> ', True),
            # The line editor before automation mode: its first draw starts with a carriage return, each redraw
            # (cursor moves, erase, prompt, the line typed) follows that on the same line.
            ("the line editor's first draw", b"\r\x1b[Kedge-001:/> ", False),
            # The session's first prompt and the editor's draw of it in place, read in one window: the
            # first prompt (a session waited 30 s for another one when both came in one read).
            ("the first prompt drawn again by the editor", b"edge-001:/> \r\x1b[Kedge-001:/> ", True),
            ("the same, cursor moves after", b"edge-001:/> \r\x1b[Kedge-001:/> \x1b[11D\x1b[11C", True),
            ("a redraw of another prompt", b"edge-001:/> \r\x1b[Kedge-002:/> ", False),
            ("a redraw after a command", b"x\r\nedge-001:/> \r\x1b[Kedge-001:/> ", False),
            ("a redraw by cursor moves", b"\r\x1b[Kedge-001:/> \x1b[12D\x1b[12C\x1b[1000D\x1b[Kedge-001:/> ", False),
            ("a redraw with a typed word", b"\r\nedge-001:/> \x1b[1000D\x1b[Kedge-001:/> show", False),
            ("a prompt-like word inside a line", b'  "text": "x:/> "', False),
            ("a log line", b"2026-11-21 10:02:41 boot: firmware 5.26.0\r\n", False),
        ]
        for title, window, expected in cases:
            self.assertEqual(is_prompt(window), expected, title)

    def test_errors(self):
        cases = [
            ("an error line", b"Error: unknown command \"frobnicate\" [unknown-command]\r\nedge-001:/> ", True),
            ("an error after output", b"ok\r\nError: not confirmed, nothing was changed [not-confirmed]\r\n", True),
            ("a warning is not an error", b"Warning: netdiag is Unsigned: no signature\r\nedge-001:/> ", False),
            ("the word inside a document", b'  "reason": "Error: x"\r\n', False),
        ]
        for title, window, expected in cases:
            self.assertEqual(is_error(window), expected, title)


class ErrorLines(unittest.TestCase):
    def test_cases(self):
        cases = [
            ("message and class", 'Error: package ghost is not installed (see package show) [not-found]\r\nedge-001:/> ',
             ("package ghost is not installed (see package show)", "not-found")),
            ("brackets inside the message", "Error: ftp [2001:db8::1]:21: connection refused [transfer]\r\n",
             ("ftp [2001:db8::1]:21: connection refused", "transfer")),
            ("the window starts inside the output", 'xt line\r\nError: device busy: a package operation by admin '
             '(pid 4242) is in progress; try again when it is done [locked]\r\nedge-001:/> ',
             ("device busy: a package operation by admin (pid 4242) is in progress; try again when it is done",
              "locked")),
            ("the class cut off by the window", "Error: a very long message that the window cut",
             ("a very long message that the window cut", "failed")),
            ("the last of two", "Error: first [usage]\r\nError: second [refused]\r\n", ("second", "refused")),
            ("no error line: the connection failed", "command timeout triggered, timeout value is 30 secs.",
             ("command timeout triggered, timeout value is 30 secs.", "connection")),
        ]
        for title, text, expected in cases:
            self.assertEqual(parse_error(text), expected, title)


class Quote(unittest.TestCase):
    def test_cases(self):
        cases = [
            ("plain", "pkgs/hello-1.2.wmopkg", "pkgs/hello-1.2.wmopkg"),
            ("address with brackets and port", "[2001:db8::1]:21", "[2001:db8::1]:21"),
            ("blank", "a b", '"a b"'),
            ("quote and backslash", 'a"b\\c', '"a\\"b\\\\c"'),
            ("a pipe is not a filter", "a|b", '"a|b"'),
            ("a semicolon does not end the command", "a;b", '"a;b"'),
            ("empty", "", '""'),
        ]
        for title, value, expected in cases:
            self.assertEqual(quote(value), expected, title)


class FactSubsets(unittest.TestCase):
    def test_cases(self):
        cases = [
            (["all"], ["min", "packages", "media", "boot"]),
            (["packages"], ["min", "packages"]),
            (["all", "!media"], ["min", "packages", "boot"]),
            (["!boot"], ["min", "packages", "media"]),
            (["min"], ["min"]),
        ]
        for asked, expected in cases:
            self.assertEqual(subsets(asked), expected, asked)
        self.assertRaises(ValueError, subsets, ["interfaces"])


if __name__ == "__main__":
    unittest.main()
