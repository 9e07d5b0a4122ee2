# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find YAML that parses but means something else than it says ("valid YAML, wrong type").

yamllint and ansible-lint read the text; this reads what YAML made of it. The first release shipped
`- --only-binary=:all:` in an argv list: a plain scalar ending in a colon is a mapping, so pip received the text of a
dict, and a `creates:` guard hid it on every machine that already had the folder. Checked here:

- every item of a command list (`argv`, list-valued `cmd`/`command`/`entrypoint`, `extra_opts`, cloud-init's
  `runcmd` entries) is a string: a number, boolean, null or mapping there was never meant;
- anywhere, a list item that is a one-key mapping with no value whose key starts with `-`: an option that lost its
  quotes (`- --flag=:x:`);
- `mode` values are strings: YAML reads `0644` as the integer 420 and `644` as decimal 644, which are different modes;
- values of keys named like a version are not floats: YAML reads `535.10` as 535.1 and `1.20` as 1.2.

    python tests/lint/yaml_types.py [PATH ...]     (default: the repository's own YAML)

Exit status 1 and one line per finding (file, path inside the document, what was found, the fix) when anything is
wrong; 0 and a count otherwise.
"""

import os
import subprocess
import sys

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Keys whose list value is handed to a program word by word.
COMMAND_LIST_KEYS = {"argv", "cmd", "command", "entrypoint", "extra_opts"}
# cloud-init runs each runcmd entry: a string through sh, a list as argv.
RUNCMD_KEY = "runcmd"


class _Loader(yaml.SafeLoader):
    """SafeLoader that also accepts Ansible's !unsafe and !vault tags (as plain scalars)."""


def _construct_tagged_scalar(loader, node):
    return loader.construct_scalar(node)


for _tag in ("!unsafe", "!vault", "!reference"):
    _Loader.add_constructor(_tag, _construct_tagged_scalar)


def _describe(value):
    if isinstance(value, dict):
        return "a mapping %r" % (value,)
    return "%s %r" % (type(value).__name__, value)


def _lost_quotes(item):
    return (
        isinstance(item, dict)
        and len(item) == 1
        and next(iter(item.values())) is None
        and str(next(iter(item))).startswith("-")
    )


def _check_command_list(items, where, findings):
    for index, item in enumerate(items):
        if not isinstance(item, str):
            findings.append(
                '%s[%d]: command word is %s, not a string; quote it (e.g. "--only-binary=:all:")'
                % (where, index, _describe(item))
            )


def find_problems(document, where="", findings=None, command_list=False):
    """Walk one parsed YAML document; return a list of findings (strings)."""
    if findings is None:
        findings = []
    if isinstance(document, dict):
        for key, value in document.items():
            path = "%s.%s" % (where, key) if where else str(key)
            is_command_list = key in COMMAND_LIST_KEYS and isinstance(value, list)
            if is_command_list:
                _check_command_list(value, path, findings)
            elif key == RUNCMD_KEY and isinstance(value, list):
                for index, entry in enumerate(value):
                    if isinstance(entry, list):
                        _check_command_list(entry, "%s[%d]" % (path, index), findings)
                    elif not isinstance(entry, str):
                        findings.append("%s[%d]: runcmd entry is %s; quote it" % (path, index, _describe(entry)))
            elif key == "mode" and isinstance(value, int) and not isinstance(value, bool):
                findings.append(
                    '%s: mode is the integer %d (octal %s); write it as a quoted string such as "0644"'
                    % (path, value, oct(value))
                )
            elif "version" in str(key) and isinstance(value, float):
                findings.append(
                    "%s: version is the number %r, and YAML drops trailing zeros (535.10 reads as 535.1); quote it"
                    % (path, value)
                )
            find_problems(value, path, findings, command_list=is_command_list)
    elif isinstance(document, list):
        for index, item in enumerate(document):
            path = "%s[%d]" % (where, index)
            # In a command list the word check above already names this item.
            if not command_list and _lost_quotes(item):
                findings.append(
                    "%s: %s is a mapping because the text ends in a colon; quote the whole item"
                    % (path, _describe(item))
                )
            find_problems(item, path, findings)
    return findings


def check_text(text, name):
    """Findings for every document of one YAML file's text, each prefixed by the file name."""
    findings = []
    try:
        documents = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as error:
        return ["%s: does not parse as YAML: %s" % (name, error)]
    for number, document in enumerate(documents):
        prefix = name if len(documents) == 1 else "%s (document %d)" % (name, number + 1)
        findings.extend("%s: %s" % (prefix, finding) for finding in find_problems(document))
    return findings


def repository_yaml_files():
    """The YAML files git would ship (tracked or new, not ignored), without the self-referencing collections link."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.yml", "*.yaml"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [
        os.path.join(REPO_ROOT, path)
        for path in listing.split("\0")
        if path and not path.startswith("collections/") and os.path.isfile(os.path.join(REPO_ROOT, path))
    ]


def main(argv=None):
    paths = (sys.argv[1:] if argv is None else argv) or repository_yaml_files()
    findings = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            findings.extend(check_text(handle.read(), os.path.relpath(path, REPO_ROOT)))
    for finding in findings:
        print(finding)
    print("yaml_types: %d file(s) read, %d problem(s)" % (len(paths), len(findings)))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
