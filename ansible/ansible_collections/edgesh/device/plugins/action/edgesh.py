# -*- coding: utf-8 -*-
# The action plugin of every edgesh.device module: network_cli only, and the modules run inside the controller.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ansible.netcommon.plugins.action.network import ActionModule as ActionNetworkModule


class ActionModule(ActionNetworkModule):
    """netcommon's network action: with `import_modules` (the default) a module runs in the worker that
    already holds the connection, instead of being packed and started as a process of its own."""

    def run(self, tmp=None, task_vars=None):
        del tmp  # tmp no longer has any effect
        connection = self._play_context.connection.split(".")[-1]
        if connection != "network_cli":
            return {
                "failed": True,
                "msg": "Connection type %s is not valid for this module: use ansible.netcommon.network_cli"
                % self._play_context.connection,
            }
        return super(ActionModule, self).run(task_vars=task_vars)
