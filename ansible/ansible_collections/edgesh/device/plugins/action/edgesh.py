# -*- coding: utf-8 -*-
# The action plugin of every edgesh.device module: the module runs inside the controller, over network_cli or OpenSSH.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils._text import to_text
from ansible.module_utils.connection import ConnectionError
from ansible.plugins.loader import connection_loader
from ansible.utils.display import Display
from ansible_collections.ansible.netcommon.plugins.action.network import ActionModule as ActionNetworkModule

# The modules this action plugin runs (meta/runtime.yml routes each of them here).
MODULES = ("package", "reboot", "facts", "feed", "updater")


def _warm_controller():
    """Loads, once in the controller, what every task's worker would otherwise load again for its host.

    The strategy imports this plugin in Ansible's main process before it forks a worker per host and
    task; a worker inherits what the main process holds. Without this, each worker parses the
    ansible.builtin.ssh plugin's documentation (its option definitions, 13 KiB of YAML) and imports
    the module: a third of a worker's own CPU time; with it, both are read once per run."""
    try:
        # Ansible keeps the definitions under the name the play gave: both spellings of the plugin.
        for name in ("ansible.builtin.ssh", "ssh"):
            connection_loader.get(name, class_only=True)
        for name in MODULES:
            importlib.import_module("ansible_collections.edgesh.device.plugins.modules.%s" % name)
    except Exception as e:  # a warm-up only: the worker loads what is missing, and says what fails
        Display().vvvv("edgesh.device: controller warm-up skipped: %s" % to_text(e))


_warm_controller()


class ActionModule(ActionNetworkModule):
    """netcommon's network action: with `import_modules` (the default) a module runs in the worker that
    already holds the connection, instead of being packed and started as a process of its own.

    Over `ansible.builtin.ssh` the module runs in the worker too, and each of its commands is one
    `ssh HOST 'COMMAND | json'` (edgesh -c), OpenSSH's ControlMaster keeping the connection: no
    persistent connection process per host, no terminal to read prompts from (docs/automation.md)."""

    def run(self, tmp=None, task_vars=None):
        del tmp  # tmp no longer has any effect
        connection = self._play_context.connection.split(".")[-1]
        if connection == "ssh":
            return self._run_over_ssh(task_vars)
        if connection != "network_cli":
            return {
                "failed": True,
                "msg": "Connection type %s is not valid for this module: use ansible.netcommon.network_cli "
                "or ansible.builtin.ssh" % self._play_context.connection,
            }
        return super(ActionModule, self).run(task_vars=task_vars)

    def _run_over_ssh(self, task_vars):
        """Direct execution as netcommon does it, with the commands sent by the task's OpenSSH connection."""
        if self._task.async_val:
            return {"failed": True, "msg": "the edgesh.device modules do not run asynchronously"}
        _, module = self._find_load_module()
        self._patch_update_module(module, task_vars)
        commands = CommandLine(self._connection)
        # module_utils' get_connection() takes this instead of a persistent connection's socket, and a
        # module sends commands that may run together as one line (each line is a process of the device).
        module.AnsibleModule._edgesh_connection = commands
        module.AnsibleModule._edgesh_whole_lines = True
        result = self._exec_module(module)
        if commands.unreachable is not None:
            result.update(unreachable=True, msg=commands.unreachable)
        return result


class CommandLine(object):
    """The part of a persistent connection the modules use (`get`, the command timeout), for OpenSSH:
    a command is `edgesh -c COMMAND` by sshd, its document on stdout, `Error: … [class]` on stderr and
    its class's exit status (docs/automation.md)."""

    TIMEOUT = "persistent_command_timeout"

    def __init__(self, connection):
        self._connection = connection
        self._options = {self.TIMEOUT: 30}
        self.unreachable = None

    def get(self, command, **kwargs):
        """Runs one command line; its stdout, or ConnectionError with the device's error text as `err`."""
        try:
            # Not sudoable: no `-tt`, so that the shell runs in script mode with stdout and stderr apart.
            status, out, err = self._connection.exec_command(command, sudoable=False)
        except AnsibleConnectionFailure as e:
            self.unreachable = to_text(e)
            raise ConnectionError(to_text(e), err=to_text(e))
        if status != 0:
            text = to_text(err, errors="surrogate_then_replace") or to_text(out, errors="surrogate_then_replace")
            raise ConnectionError(text.strip(), err=text, code=status,
                                  out=to_text(out, errors="surrogate_then_replace"))
        return to_text(out, errors="surrogate_or_strict")

    def get_option(self, name):
        """The command timeout the modules raise for a long command; OpenSSH itself has none (the task's
        `timeout` keyword bounds a task), so it is only kept."""
        return self._options[name]

    def set_option(self, name, value):
        self._options[name] = value
