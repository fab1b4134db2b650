# -*- coding: utf-8 -*-
# The cliconf plugin of edgesh: commands with JSON output, device facts, the boot configuration as config.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
author: edgesh
name: edgesh
short_description: Use edgesh cliconf to run commands on a device with the edgesh CLI
description:
- Runs commands on the edgesh CLI of a device over C(ansible.netcommon.network_cli), with their JSON
  documents (C(| json)) parsed, and returns the device facts from C(show version | json).
- The configuration of the device, for C(get_config) and C(edit_config) (C(ansible.netcommon.cli_config)),
  is its boot configuration, edited with the commands of the C(boot) context; the device has no
  candidate configuration, so there is no commit, rollback or on-box diff.
version_added: 1.0.0
"""

import json

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils._text import to_text
from ansible.module_utils.common._collections_compat import Mapping
from ansible_collections.ansible.netcommon.plugins.module_utils.network.common.utils import to_list
from ansible_collections.ansible.netcommon.plugins.plugin_utils.cliconf_base import CliconfBase

JSON = " | json"


class Cliconf(CliconfBase):
    __rpc__ = CliconfBase.__rpc__ + ["run_commands"]

    def __init__(self, *args, **kwargs):
        super(Cliconf, self).__init__(*args, **kwargs)
        self._device_info = {}

    def get_device_info(self):
        if not self._device_info:
            version = json.loads(self.get("show version", output="json"))
            self._device_info = {
                "network_os": "edgesh",
                "network_os_version": version.get("firmware_version"),
                "network_os_hostname": version.get("hostname"),
                "network_os_model": "edgesh",
                "network_os_platform": ", ".join(version.get("architectures") or []),
                "network_os_serial": version.get("serial"),
            }
        return self._device_info

    def get_config(self, source="running", flags=None, format="text"):
        if source != "running":
            raise ValueError("the device keeps one configuration (its boot configuration), not %s" % source)
        if format not in self.get_option_values()["format"]:
            raise ValueError("'format' value %s is invalid; valid values are text and json" % format)
        return self.get("boot show", output=format)

    def edit_config(self, candidate=None, commit=True, replace=None, diff=False, comment=None):
        operations = self.get_device_operations()
        self.check_edit_config_capability(operations, candidate, commit, replace, comment)
        requests = []
        responses = []
        self.send_command("boot")
        try:
            for line in to_list(candidate):
                if not isinstance(line, Mapping):
                    line = {"command": line}
                command = line["command"].strip()
                if command in ("", "end", "exit") or command.startswith("#"):
                    continue
                responses.append(self.send_command(**line))
                requests.append(command)
        finally:
            self.send_command("end")
        return {"request": requests, "response": responses}

    def get(self, command=None, prompt=None, answer=None, sendonly=False, newline=True, output=None,
            check_all=False):
        if not command:
            raise ValueError("must provide value of command to execute")
        if output not in (None, "text", "json"):
            raise ValueError("'output' value %s is invalid; valid values are text and json" % output)
        if output == "json" and not command.rstrip().endswith(JSON.strip()):
            command = command + JSON
        return self.send_command(command=command, prompt=prompt, answer=answer, sendonly=sendonly,
                                 newline=newline, check_all=check_all)

    def run_commands(self, commands=None, check_rc=True):
        if commands is None:
            raise ValueError("'commands' value is required")
        responses = []
        for cmd in to_list(commands):
            if not isinstance(cmd, Mapping):
                cmd = {"command": cmd}
            output = cmd.pop("output", None)
            if output == "json" and not cmd["command"].rstrip().endswith(JSON.strip()):
                cmd["command"] = cmd["command"] + JSON
            try:
                out = self.send_command(**cmd)
            except AnsibleConnectionFailure as e:
                if check_rc:
                    raise
                out = getattr(e, "err", e)
            out = to_text(out, errors="surrogate_or_strict")
            try:
                out = json.loads(out)
            except ValueError:
                out = out.strip()
            responses.append(out)
        return responses

    def get_device_operations(self):
        return {
            "supports_diff_replace": False,
            "supports_commit": False,
            "supports_rollback": False,
            "supports_defaults": False,
            "supports_onbox_diff": False,
            "supports_commit_comment": False,
            "supports_multiline_delimiter": False,
            "supports_diff_match": False,
            "supports_diff_ignore_lines": False,
            "supports_generate_diff": False,
            "supports_replace": False,
        }

    def get_option_values(self):
        return {"format": ["text", "json"], "diff_match": [], "diff_replace": [], "output": ["text", "json"]}

    def get_capabilities(self):
        result = super(Cliconf, self).get_capabilities()
        result["rpc"] += ["run_commands"]
        result["device_operations"] = self.get_device_operations()
        result.update(self.get_option_values())
        return json.dumps(result)

    def set_cli_prompt_context(self):
        """Every task starts at the top level: `end` leaves a context a previous task entered."""
        if self._connection.connected:
            self._update_cli_prompt_context(config_context="/#>", exit_command="end")
