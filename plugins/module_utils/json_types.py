# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names of JSON types for messages about input of the wrong shape ("engines is an array, not an object").

The report reads files other tools wrote (verdicts, the scheduling audit's result), and docker/daemon_json.py reads
daemon.json and the settings given to it; both name what they found in JSON's words, not Python's, through this one
helper.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def json_type_name(value):
    """'null', 'a boolean', 'a number', 'a string', 'an array' or 'an object': a parsed JSON value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string"


def is_number(value):
    """A JSON number (true and false are booleans, though Python counts them as ints)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
