# -*- coding: utf-8 -*-
# Makes `ansible_collections.edgesh.device` importable in plain unittest runs, as ansible-test's pytest plugin does.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

# tests/unit → device → edgesh → ansible_collections → the directory that holds it.
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
_AnsibleCollectionFinder(paths=[COLLECTIONS])._install()
