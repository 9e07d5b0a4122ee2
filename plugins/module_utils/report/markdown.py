# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Markdown table cells for the report's tables. Plain Python (no Ansible import)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def table_cell(value):
    """One cell's text: '-' when empty, and no '|' or line break that would split the row."""
    text = "-" if value in (None, "") else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def table_row(cells):
    return "| " + " | ".join(table_cell(cell) for cell in cells) + " |"
