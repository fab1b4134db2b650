# -*- coding: utf-8 -*-
# How a module ends: its result on success, the device's message and class added on a refusal.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import unittest

import _loader  # noqa: F401  (must come before the collection's imports)
from ansible_collections.edgesh.device.plugins.module_utils.network.edgesh.edgesh import EdgeshError, conclude


class Ended(Exception):
    """What AnsibleModule's exit_json and fail_json do: the module's process ends there."""


class Module(object):
    """The two ways out of AnsibleModule, recorded."""

    def __init__(self):
        self.how = None
        self.result = None

    def exit_json(self, **result):
        self.how, self.result = "exit", result
        raise Ended()

    def fail_json(self, **result):
        self.how, self.result = "fail", result
        raise Ended()


class ConcludeTest(unittest.TestCase):
    def end(self, step):
        module = Module()
        result = {"changed": False, "commands": []}
        with self.assertRaises(Ended):
            conclude(module, result, lambda: step(result))
        return module

    def test_success_exits_with_what_the_step_filled(self):
        def step(result):
            result["changed"] = True
            result["commands"].append("package feed main http://192.0.2.10/feed")

        module = self.end(step)
        self.assertEqual(module.how, "exit")
        self.assertEqual(module.result, {"changed": True, "commands": ["package feed main http://192.0.2.10/feed"]})

    def test_a_refusal_fails_with_the_device_words_its_class_and_what_was_done(self):
        def step(result):
            result["commands"].append("package install nope confirm")
            raise EdgeshError("package install nope confirm", "package nope is not in any feed", "not-found")

        module = self.end(step)
        self.assertEqual(module.how, "fail")
        self.assertEqual(module.result["msg"], "package nope is not in any feed")
        self.assertEqual(module.result["error_class"], "not-found")
        self.assertEqual(module.result["command"], "package install nope confirm")
        self.assertEqual(module.result["commands"], ["package install nope confirm"])
        self.assertFalse(module.result["changed"])


if __name__ == "__main__":
    unittest.main()
