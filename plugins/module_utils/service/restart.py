# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart a container engine's unit when what it read at start has changed since, and roll back when it does not
come back. Engine-agnostic: the engine's words (its name, its daemon's name, which journal lines are its errors, the
hint) and the command that tells whether it answers come in an EngineProfile (docker/restart.py, containerd/restart.py).

Plain Python (no Ansible import), unit-tested with a stand-in for the host. Whether a restart is due is decided from
the host's state, not from what this run changed: an engine reads its configuration files, its unit's drop-ins and
the runtimes it finds when it starts, so any of those newer than the daemon's start (or a unit file systemd has not
reloaded) means the running daemon does not have them. A run that failed between writing a file and restarting is
therefore finished by the next run, and a host restarted by hand is left alone. Check mode reads the same state and
so predicts the same answer.

The rollback writes back the files as the engine last started with them (the caller read them before changing
anything; a file that did not exist is removed), starts the engine again, and reports the daemon's own words.

An engine can come back without a plugin the caller needs: containerd whose CRI plugin refuses its configuration
logs a warning and runs on without it, answering `ctr version` as usual. So where the caller names plugins that must
load (expect_plugins), the engine's plugin list (`ctr plugins ls`) must show each as ok, or the restart counts as
failed and is rolled back like a refused start, with the daemon's "failed to load plugin" line as its words.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

LAST_LINES = 10


class EngineProfile:
    """How one engine is named, asked whether it answers, and read in its journal.

    name: the engine in sentences ("Docker"); daemon: its process ("dockerd"); service: its default unit;
    ready_command: argv that exits 0 (printing the server's version) once the daemon answers; error_line: a compiled
    pattern for the journal lines that say why it stopped; error_kind: the result's error_kind on failure; hint: what
    to do then; watch: the files it reads at start, by default; plugins_command: argv that lists the daemon's
    plugins and their status (`ctr plugins ls`), None where the engine has no such list.
    """

    def __init__(self, name, daemon, service, ready_command, error_line, error_kind, hint, watch, plugins_command=None):
        self.plugins_command = list(plugins_command) if plugins_command else None
        self.name = name
        self.daemon = daemon
        self.service = service
        self.ready_command = list(ready_command)
        self.error_line = error_line
        self.error_kind = error_kind
        self.hint = hint
        self.watch = list(watch)

    def but(self, **changes):
        """A copy with some fields replaced (None keeps the field): a task's own wording over the preset."""
        fields = dict(vars(self))
        fields.update({key: value for key, value in changes.items() if value is not None})
        if isinstance(fields["error_line"], str):
            fields["error_line"] = re.compile(fields["error_line"])
        return EngineProfile(**fields)


class RestartDecision:
    """Whether the engine needs a (re)start, and why, in words for the task's result."""

    def __init__(self, needed, reasons, unit_loaded):
        self.needed = needed
        self.reasons = reasons
        self.unit_loaded = unit_loaded


def parse_systemctl_show(text):
    """`systemctl show -p A -p B UNIT` output (KEY=VALUE lines) as a dict of strings."""
    properties = {}
    for line in text.splitlines():
        key, separator, value = line.partition("=")
        if separator:
            properties[key.strip()] = value.strip()
    return properties


def main_start_monotonic(properties):
    """Seconds on the monotonic clock when the unit's main process started, or None if it never did."""
    for key in ("ExecMainStartTimestampMonotonic", "ActiveEnterTimestampMonotonic"):
        value = properties.get(key, "")
        if value.isdigit() and int(value) > 0:
            return int(value) / 1e6
    return None


def decide_restart(properties, watched, wall_now, monotonic_now, assume_changed=False, daemon="the daemon"):
    """Decide whether the engine must be (re)started.

    properties: `systemctl show` of the unit (LoadState, ActiveState, NeedDaemonReload, ExecMainStartTimestamp...).
    watched: {path: seconds since the epoch of its last change (max of mtime and ctime), or None when absent}.
    wall_now, monotonic_now: the two clocks read at the same moment, to place the start on the wall clock.
    assume_changed: check mode only: earlier tasks would change something the engine reads, which the files cannot
    show because check mode changed nothing. Where the unit does not exist yet, it is the only thing that counts.
    daemon: the daemon's name in the reasons ("dockerd", "containerd").
    """
    predicted = "earlier tasks would change what %s reads at start" % daemon
    if properties.get("LoadState") != "loaded":
        return RestartDecision(bool(assume_changed), [predicted] if assume_changed else [], False)
    reasons = []
    if properties.get("ActiveState") != "active":
        reasons.append("the service is %s" % (properties.get("ActiveState") or "not running"))
    if properties.get("NeedDaemonReload") == "yes":
        reasons.append("its unit files changed since systemd loaded them")
    started = main_start_monotonic(properties)
    if started is not None and properties.get("ActiveState") == "active":
        started_wall = wall_now - (monotonic_now - started)
        for path in sorted(watched):
            changed_at = watched[path]
            if changed_at is not None and changed_at > started_wall:
                reasons.append("%s changed after %s started" % (path, daemon))
    if assume_changed:
        reasons.append(predicted)
    return RestartDecision(bool(reasons), reasons, True)


def journal_cursor(stdout):
    """The cursor from `journalctl --show-cursor --lines=0`, or "" when the unit has no entries yet."""
    match = re.search(r"^-- cursor: (\S+)", stdout or "", re.MULTILINE)
    return match.group(1) if match else ""


def daemon_said(journal_lines, error_line):
    """What the daemon said about its failure, as one line: its error lines, else its last lines."""
    lines = [line.strip() for line in journal_lines if line.strip()]
    errors = []
    for line in lines:
        if error_line.search(line) and line not in errors:
            errors.append(line)
    return " | ".join(errors or lines[-LAST_LINES:]) or "nothing (the journal has no lines for it)"


def server_version(stdout):
    """The server's version from the ready command: `ctr version`'s Server block, else the first line."""
    match = re.search(r"^Server:\s*\n\s*Version:\s*(\S+)", stdout or "", re.MULTILINE)
    if match:
        return match.group(1)
    lines = (stdout or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def parse_plugins_ls(text):
    """`ctr plugins ls` (TYPE ID PLATFORMS STATUS columns) as a list of {type, id, platforms, status}."""
    rows = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) != 4 or fields[0] == "TYPE":
            continue
        rows.append({"type": fields[0], "id": fields[1], "platforms": fields[2], "status": fields[3]})
    return rows


def plugins_not_ok(rows, expected):
    """The expected plugins that are not loaded, as "name (status)" in words; [] when all are ok.

    An expected name is a plugin's full name (type.id, "io.containerd.grpc.v1.cri") or a plugin type
    ("io.containerd.cri.v1": every plugin of that type, and at least one, must be ok)."""
    problems = []
    for name in expected:
        matching = [row for row in rows if "%s.%s" % (row["type"], row["id"]) == name or row["type"] == name]
        if not matching:
            problems.append("%s (not listed)" % name)
        for row in matching:
            if row["status"] != "ok":
                problems.append("%s.%s (%s)" % (row["type"], row["id"], row["status"]))
    return problems


def plugin_lines(journal_lines, names):
    """The daemon's "failed to load plugin <name>" lines for the plugins named, most recent start only."""
    found = []
    for line in journal_lines:
        line = line.strip()
        if "failed to load plugin" in line and any(name in line for name in names) and line not in found:
            found.append(line)
    return " | ".join(found)


def _file_names(paths):
    names = [path.rsplit("/", 1)[-1] for path in paths]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def failure_message(profile, said, restored, running_again, rollback_failure=None, missing_plugins=None):
    """The one-line message a failed restart ends with; it reaches logs and the fleet report's reason.

    restored: the paths written back (or removed) as they were before the play, or None when none was given.
    missing_plugins: the plugins it came back without (plugins_not_ok's words), when it did come back.
    """
    if not restored:
        outcome = "No earlier configuration was given to return to: nothing restored."
    else:
        one = len(restored) == 1
        restored_text = "%s %s restored to %s content from before this play" % (
            _file_names(restored),
            "was" if one else "were",
            "its" if one else "their",
        )
        if running_again:
            outcome = "%s and %s is running again with %s." % (restored_text, profile.name, "it" if one else "them")
        else:
            outcome = "%s, but %s did not start with %s either (%s): see journalctl -u %s." % (
                restored_text,
                profile.name,
                "it" if one else "them",
                rollback_failure or "%s did not answer" % " ".join(profile.ready_command[:2]),
                profile.service,
            )
    if missing_plugins:
        first = "%s started with the new configuration but without %s." % (profile.name, ", ".join(missing_plugins))
    else:
        first = "%s did not start with the new configuration." % profile.name
    return " ".join(
        [
            "%s %s said:" % (first, profile.daemon),
            said.rstrip(".") + ".",
            outcome,
            "Fix the settings named above and run again.",
        ]
    )


class Host:
    """What restart_with_rollback needs from the host; the module gives the real one, tests a stand-in."""

    def run(self, argv):  # pragma: no cover - interface
        """Run argv; return (rc, stdout, stderr)."""
        raise NotImplementedError

    def restore(self, previous):  # pragma: no cover - interface
        """Put one file back as `previous` describes it ({path, exists, content (base64), mode, owner, group}):
        removed when it did not exist."""
        raise NotImplementedError

    def sleep(self, seconds):  # pragma: no cover - interface
        raise NotImplementedError


def wait_until_answers(host, ready_command, timeout, interval=2):
    """Run the ready command until it answers or `timeout` seconds have passed; returns the server version or None."""
    waited = 0
    while True:
        rc, stdout, _stderr = host.run(ready_command)
        if rc == 0 and stdout.strip():
            return server_version(stdout) or stdout.strip()
        if waited >= timeout:
            return None
        host.sleep(interval)
        waited += interval


def restart_with_rollback(host, profile, timeout, previous_files, expect_plugins=()):
    """Restart `profile.service`; on failure restore `previous_files` (a list), start again, and explain.

    expect_plugins: plugins (full names or types, see plugins_not_ok) the daemon must list as ok once it answers;
    a daemon that answers without them failed too. Needs profile.plugins_command.
    Returns a dict: ok, server_version, message, rolled_back, restored (paths), daemon_said, missing_plugins,
    commands (in order).
    """
    unit = profile.service
    commands = []
    expect_plugins = list(expect_plugins or [])
    if expect_plugins and not profile.plugins_command:
        raise ValueError("%s has no plugin list to check expect_plugins against" % profile.name)

    def run(argv):
        commands.append(argv)
        return host.run(argv)

    def missing_plugins():
        rc, stdout, stderr = run(profile.plugins_command)
        if rc != 0:
            return ["the plugin list (%s: %s)" % (" ".join(profile.plugins_command), (stderr or stdout).strip())]
        return plugins_not_ok(parse_plugins_ls(stdout), expect_plugins)

    def answers():
        """(server version, plugins it lacks) once it answers; (None, []) when it never does."""
        version = wait_until_answers(host, profile.ready_command, timeout)
        return version, (missing_plugins() if version and expect_plugins else [])

    _rc, mark, _err = run(["journalctl", "--unit=" + unit, "--lines=0", "--show-cursor", "--quiet"])
    cursor = journal_cursor(mark)
    run(["systemctl", "daemon-reload"])
    rc, _out, restart_err = run(["systemctl", "restart", unit])
    version, lacking = answers() if rc == 0 else (None, [])
    if version and not lacking:
        return {"ok": True, "server_version": version, "rolled_back": False, "restored": [], "commands": commands}

    journal_argv = ["journalctl", "--unit=" + unit, "--no-pager", "--output=cat"]
    journal_argv.append("--after-cursor=" + cursor if cursor else "--lines=40")
    _rc, journal, _err = run(journal_argv)
    said = ""
    if lacking:
        # It runs, so no fatal line: the warning naming the plugin is the daemon's reason.
        said = plugin_lines(journal.splitlines(), expect_plugins)
    said = said or daemon_said(journal.splitlines() or restart_err.splitlines(), profile.error_line)
    restored = []
    running_again = False
    rollback_failure = None
    if previous_files:
        for previous in previous_files:
            host.restore(previous)
            restored.append(previous["path"])
        # The failed attempts used up systemd's start limit; without this the start below is refused.
        run(["systemctl", "reset-failed", unit])
        rc, _out, err = run(["systemctl", "restart", unit])
        if rc == 0:
            again, still_lacking = answers()
            running_again = again is not None and not still_lacking
            if again is not None and still_lacking:
                rollback_failure = "it came back without %s" % ", ".join(still_lacking)
        else:
            rollback_failure = (err.strip().splitlines() or ["systemd gave no reason"])[0]
    return {
        "ok": False,
        "server_version": None,
        "rolled_back": bool(restored),
        "restored": restored,
        "daemon_said": said,
        "missing_plugins": lacking,
        "message": failure_message(profile, said, restored or None, running_again, rollback_failure, lacking),
        "commands": commands,
    }
