# -*- coding: utf-8 -*-
# The terminal plugin of edgesh for network_cli: where the prompt is, what an error looks like, automation mode.
# It switches every session to automation mode (`terminal automation`) as soon as it opens: the prompt drawn
# once, nothing redrawn per key, nothing coloured, paged or cut, and no question ever asked (docs/automation.md).
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleConnectionFailure
from ansible_collections.ansible.netcommon.plugins.plugin_utils.terminal_base import TerminalBase


class TerminalModule(TerminalBase):
    # A prompt only at the very start of the output or right after a line end: the line editor's
    # redraws (before automation mode is on) start with a carriage return and never match.
    # At the start of a session the shell draws its first prompt before the line editor is loaded, and
    # the editor draws it again in place: a window that holds both, and nothing else, is that prompt.
    terminal_stdout_re = [
        re.compile(rb"(?:\A|\n\r?)[^\s:/]+:/(?:[A-Za-z0-9_/-]+/#)?> ?$"),
        re.compile(rb"\A([^\s:/]+:/> )\r\1$"),
    ]

    # `Error: MESSAGE [CLASS]` (docs/automation.md); warnings (`Warning: …`) are not failures.
    terminal_stderr_re = [re.compile(rb"(?:\A|\n)\r?Error: ")]

    # Every control sequence: the line editor draws with cursor moves, erases and colours until
    # automation mode is on.
    ansi_re = [
        re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]"),
        re.compile(rb"\x1b[=>78]"),
        re.compile(rb"\x08."),
    ]

    def on_open_shell(self):
        try:
            self._exec_cli_command(b"terminal automation")
        except AnsibleConnectionFailure:
            raise AnsibleConnectionFailure(
                "unable to set terminal parameters: the device does not know terminal automation"
            )
