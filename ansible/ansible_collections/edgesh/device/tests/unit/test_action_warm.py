# -*- coding: utf-8 -*-
# The action plugin loads, once in the controller, what each host's worker would otherwise load again.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))

# Run in an interpreter of its own: what this process has imported for other tests must not count.
PROBE = textwrap.dedent("""
    import json, sys, warnings
    warnings.simplefilter("ignore")
    sys.path.insert(0, %r)
    import _loader  # noqa: F401
    import ansible.plugins.loader as loader
    import ansible_collections.edgesh.device.plugins.action.edgesh  # noqa: F401
    # What a worker does for its connection, counting the plugin documentations it parses.
    parsed = []
    parse = loader.AnsibleLoader
    loader.AnsibleLoader = lambda *a, **k: parsed.append(k.get("file_name")) or parse(*a, **k)
    for name in ("ansible.builtin.ssh", "ssh"):
        loader.connection_loader.get(name, class_only=True)
    print(json.dumps({
        "parsed": parsed,
        "modules": sorted(m.rsplit(".", 1)[1] for m in sys.modules
                          if m.startswith("ansible_collections.edgesh.device.plugins.modules.")),
    }))
""") % HERE


class ControllerWarmUpTest(unittest.TestCase):
    def test_importing_the_action_plugin_parses_the_ssh_options_and_imports_the_modules(self):
        # Ansible's strategy imports the action plugin in its main process before it forks a worker
        # per host: what the import loads, every worker inherits instead of parsing it again.
        out = subprocess.run([sys.executable, "-c", PROBE], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
        import json
        found = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(found["parsed"], [])
        self.assertEqual(found["modules"], ["facts", "feed", "package", "reboot", "updater"])


if __name__ == "__main__":
    unittest.main()
