# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The "valid YAML, wrong type" check that the lint stage runs over the repository's YAML."""

import importlib.util
import os

import pytest

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "lint", "yaml_types.py")
_SPEC = importlib.util.spec_from_file_location("yaml_types", _PATH)
yaml_types = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(yaml_types)

# The task as the first release shipped it (molecule/bootstrap_pull/prepare.yml): pip got the text of a dict.
SHIPPED_ARGV = """
- hosts: localhost
  tasks:
    - name: Download ansible-core
      ansible.builtin.command:
        argv:
          - python3
          - -m
          - pip
          - download
          - --only-binary=:all:
          - ansible-core
"""


def test_the_shipped_argv_bug_is_found_once_naming_the_item():
    findings = yaml_types.check_text(SHIPPED_ARGV, "prepare.yml")
    assert len(findings) == 1
    assert "argv[4]" in findings[0]
    assert "{'--only-binary=:all': None}" in findings[0]
    assert "quote" in findings[0]


def test_the_quoted_argv_passes():
    assert yaml_types.check_text(SHIPPED_ARGV.replace("- --only-binary=:all:", '- "--only-binary=:all:"'), "x") == []


@pytest.mark.parametrize(
    "text, needle",
    [
        ("argv: [sleep, 5]", "argv[1]: command word is int 5"),
        ("argv: [echo, yes]", "argv[1]: command word is bool True"),
        ("cmd: [ls, ~]", "cmd[1]: command word is NoneType None"),
        ("command: [run, --quiet: ]", "command[1]: command word is a mapping"),
        ("extra_opts: [--strip-components=1, 2]", "extra_opts[1]"),
        ("runcmd: [[gpufleet-pull, 3]]", "runcmd[0][1]: command word is int 3"),
        ("runcmd: [7]", "runcmd[0]: runcmd entry is int 7"),
        ("mode: 0644", "mode is the integer 420 (octal 0o644)"),
        ("mode: 644", "mode is the integer 644"),
        ("min_driver_version: 535.10", "version is the number 535.1"),
        ("packages: [--no-install-recommends=:x:]", "packages[0]: a mapping"),
    ],
)
def test_each_wrong_type_is_named(text, needle):
    findings = yaml_types.check_text(text, "f.yml")
    assert len(findings) == 1, findings
    assert needle in findings[0]


@pytest.mark.parametrize(
    "text",
    [
        'argv: [sleep, "5"]',
        "cmd: apt-get update",  # a string command is the shell-free module's own business
        'mode: "0644"',
        "mode: u=rw,g=r,o=r",
        'min_driver_version: "535.10"',
        "version: 3",  # an integer keeps its digits
        "when: ansible_check_mode",
        "items: [{name: a, value: null}]",  # an ordinary mapping in a list
    ],
)
def test_what_means_what_it_says_passes(text):
    assert yaml_types.check_text(text, "f.yml") == []


def test_every_document_of_a_file_is_read():
    findings = yaml_types.check_text("---\nmode: 0600\n---\nargv: [a, 1]\n", "two.yml")
    assert [finding.split(":")[0] for finding in findings] == ["two.yml (document 1)", "two.yml (document 2)"]


def test_unparsable_yaml_is_a_finding_not_a_traceback():
    findings = yaml_types.check_text("a: [b\n", "broken.yml")
    assert len(findings) == 1 and "does not parse as YAML" in findings[0]


def test_ansible_tags_are_read():
    assert yaml_types.check_text("argv: [echo, !unsafe '{{ x }}']", "f.yml") == []


def test_the_repository_itself_is_clean():
    """The check the lint stage runs: every YAML file git would ship."""
    files = yaml_types.repository_yaml_files()
    assert any(path.endswith("site.yml") for path in files)
    assert yaml_types.main(files) == 0
