# -*- coding: utf-8 -*-
# The edgesh.device modules' side of the device: commands as the CLI reads them, JSON documents, error lines.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible.module_utils._text import to_text
from ansible.module_utils.connection import Connection, ConnectionError

# `Error: MESSAGE [CLASS]` (docs/automation.md). The window network_cli reports may start in the
# middle of a line or end in the prompt: the match is searched, not anchored at the start.
ERROR_LINE = re.compile(r"Error: (?P<message>[^\r\n]*?)(?: \[(?P<cls>[a-z][a-z-]*)\])?[ \t]*(?:\r?\n|$)")

# What the CLI takes as a word without quotes: anything else is written in double quotes.
PLAIN_WORD = re.compile(r"^[A-Za-z0-9._/:@+\[\]=,-]+$")

PROTOCOLS = ["ftp", "tftp", "scp", "sftp", "http", "https"]


class EdgeshError(Exception):
    """A command the device refused or could not run: its message and its class (docs/automation.md)."""

    def __init__(self, command, message, error_class):
        super(EdgeshError, self).__init__(message)
        self.command = command
        self.message = message
        self.error_class = error_class

    def result(self):
        """What a module adds to its failure: the device's words, the class, the command."""
        return {"msg": self.message, "error_class": self.error_class, "command": self.command}


def parse_error(text):
    """(message, class) of the last `Error:` line in text; a text without one is a connection failure."""
    text = to_text(text, errors="surrogate_then_replace")
    found = None
    for found in ERROR_LINE.finditer(text):
        pass
    if found is None:
        return text.strip(), "connection"
    return found.group("message").strip(), found.group("cls") or "failed"


def quote(value):
    """A value as the CLI reads it: as it is when plain, else in double quotes with \\ and " escaped."""
    value = to_text(value)
    if PLAIN_WORD.match(value):
        return value
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')


def find_named(entries, name):
    """The entry of a document's list (`packages`, `feeds`) whose `name` is name, or None."""
    for entry in entries:
        if entry.get("name") == name:
            return entry
    return None


def get_connection(module):
    """The persistent connection of the task (network_cli with the collection's cliconf plugin)."""
    connection = getattr(module, "_edgesh_connection", None)
    if connection is None:
        connection = Connection(module._socket_path)
        module._edgesh_connection = connection
    return connection


def run(module, command, json_output=True):
    """Runs one command at the top level; returns its JSON document (or its text). Raises EdgeshError."""
    line = "%s | json" % command if json_output else command
    try:
        out = get_connection(module).get(command=line)
    except ConnectionError as exc:
        message, error_class = parse_error(getattr(exc, "err", None) or to_text(exc))
        raise EdgeshError(line, message, error_class)
    if not json_output:
        return to_text(out)
    try:
        return json.loads(out)
    except ValueError:
        raise EdgeshError(line, "the device did not answer with a JSON document: %s" % to_text(out)[:200], "failed")


def whole_lines(module):
    """Whether each round trip is a command line of its own (OpenSSH: `ssh HOST 'LINE'`, one process of the
    device each), so that commands are worth sending together."""
    return getattr(module, "_edgesh_whole_lines", False) is True


def run_lines(module, commands):
    """Runs commands as one line (`A | json; B | json`) in one round trip; returns the documents printed, in
    order, and the EdgeshError of the line (None when every command succeeded). The shell runs every
    command of a line even after one failed, so a line must only hold commands that may all run."""
    line = "; ".join("%s | json" % command for command in commands)
    error = None
    try:
        out = get_connection(module).get(command=line)
    except ConnectionError as exc:
        out = getattr(exc, "out", "")
        message, error_class = parse_error(getattr(exc, "err", None) or to_text(exc))
        error = EdgeshError(line, message, error_class)
    text = to_text(out, errors="surrogate_then_replace")
    docs = []
    decoder = json.JSONDecoder()
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        try:
            doc, at = decoder.raw_decode(text, at)
        except ValueError:
            raise EdgeshError(line, "the device did not answer with JSON documents: %s" % text[at:at + 200],
                              "failed")
        docs.append(doc)
    if not docs:
        raise error or EdgeshError(line, "the device printed no document", "failed")
    return docs, error


class CommandTimeout(object):
    """Raises the connection's command timeout for a long command (a boot, a large download), then restores it."""

    OPTION = "persistent_command_timeout"

    def __init__(self, module, seconds):
        self.module = module
        self.seconds = seconds
        self.previous = None

    def __enter__(self):
        if self.seconds:
            connection = get_connection(self.module)
            self.previous = connection.get_option(self.OPTION)
            if self.seconds > self.previous:
                connection.set_option(self.OPTION, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            get_connection(self.module).set_option(self.OPTION, self.previous)
        return False


def conclude(module, result, step, timeout=None):
    """Ends a module: runs `step` (a function of no arguments that fills `result`) with the command
    timeout raised to `timeout`, then exits with `result`, or fails with it and the device's error
    (its message and class) when the device refused."""
    try:
        with CommandTimeout(module, timeout):
            step()
    except EdgeshError as e:
        result.update(e.result())
        module.fail_json(**result)
    module.exit_json(**result)
