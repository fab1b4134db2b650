# -*- coding: utf-8 -*-
# The documentation every edgesh.device module shares: how it reaches the device.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options: {}
notes:
- Runs over C(ansible.netcommon.network_cli) with C(ansible_network_os=edgesh.device.edgesh); the module
  runs on the controller and sends CLI commands through the persistent connection, reading their JSON
  documents (C(| json)).
- Runs over C(ansible.builtin.ssh) as well, each command line then one C(ssh HOST 'COMMAND | json') through
  OpenSSH's ControlMaster, without a persistent connection process per host (cheaper over many devices).
- The session is switched to automation mode when it opens (C(terminal automation)), in which the
  device never asks a question; every command of the modules that would ask carries C(confirm).
- A device error fails the task with the device's message in C(msg) and its class (C(usage),
  C(unknown-command), C(not-found), C(not-confirmed), C(refused), C(transfer), C(locked), C(storage),
  C(interrupted), C(internal), C(failed)) in C(error_class).
- Ansible's paramiko checks host keys against C(~/.ssh/known_hosts) and C(/etc/ssh/ssh_known_hosts) only.
"""
