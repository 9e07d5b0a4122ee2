# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart dockerd when what it read at start has changed since, and roll back when it does not come back.

Plain Python (no Ansible import), unit-tested with a stand-in for the host. Whether a restart is due is decided from
the host's state, not from what this run changed: dockerd reads daemon.json, its unit's drop-ins and the
runtime hook's location when it starts, so any of those newer than the daemon's start (or a unit file systemd has
not reloaded) means the running daemon does not have them. A run that failed between writing daemon.json and
restarting is therefore finished by the next run, and a host restarted by hand is left alone. Check mode reads the
same state and so predicts the same answer.

The rollback writes back the daemon.json the engine last started with (the caller read it before changing
anything), starts Docker again, and reports dockerd's own words.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# The lines of dockerd's journal that say why it stopped; when none matches, the last lines are the best account.
DAEMON_ERROR_LINE = re.compile(r"(?i)failed to start daemon|unable to configure|unable to parse|level=fatal")
LAST_LINES = 10
DAEMON_ERROR_KIND = "docker_restart_failed"
HINT = (
    "Fix the settings dockerd names above (in docker_daemon_options, or the other inputs to daemon.json) and run "
    "again; journalctl -u docker.service has the daemon's whole account."
)


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


def decide_restart(properties, watched, wall_now, monotonic_now, assume_changed=False):
    """Decide whether the engine must be (re)started.

    properties: `systemctl show` of the unit (LoadState, ActiveState, NeedDaemonReload, ExecMainStartTimestamp...).
    watched: {path: seconds since the epoch of its last change (max of mtime and ctime), or None when absent}.
    wall_now, monotonic_now: the two clocks read at the same moment, to place the start on the wall clock.
    assume_changed: check mode only: earlier tasks would change something the engine reads, which the files cannot
    show because check mode changed nothing. Where the unit does not exist yet, it is the only thing that counts.
    """
    predicted = "earlier tasks would change what dockerd reads at start"
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
                reasons.append("%s changed after dockerd started" % path)
    if assume_changed:
        reasons.append(predicted)
    return RestartDecision(bool(reasons), reasons, True)


def journal_cursor(stdout):
    """The cursor from `journalctl --show-cursor --lines=0`, or "" when the unit has no entries yet."""
    match = re.search(r"^-- cursor: (\S+)", stdout or "", re.MULTILINE)
    return match.group(1) if match else ""


def daemon_said(journal_lines):
    """What dockerd said about its failure, as one line: its error lines, else its last lines."""
    lines = [line.strip() for line in journal_lines if line.strip()]
    errors = []
    for line in lines:
        if DAEMON_ERROR_LINE.search(line) and line not in errors:
            errors.append(line)
    return " | ".join(errors or lines[-LAST_LINES:]) or "nothing (the journal has no lines for it)"


def failure_message(said, restored, running_again, rollback_failure=None):
    """The one-line message a failed restart ends with; it reaches logs and the fleet report's reason."""
    if restored is None:
        outcome = "No earlier daemon.json was given to return to: nothing restored."
    elif running_again:
        outcome = "daemon.json was restored to its content from before this play and Docker is running again with it."
    else:
        outcome = (
            "daemon.json was restored to its content from before this play, but Docker did not start with it either "
            "(%s): see journalctl -u docker.service." % (rollback_failure or "docker info did not answer")
        )
    return " ".join(
        [
            "Docker did not start with the new configuration. dockerd said:",
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
        """Put daemon.json back as `previous` describes it (or remove it when it did not exist)."""
        raise NotImplementedError

    def sleep(self, seconds):  # pragma: no cover - interface
        raise NotImplementedError


def wait_until_answers(host, docker_bin, timeout, interval=2):
    """Ask `docker info` until it answers or `timeout` seconds have passed; returns the server version or None."""
    waited = 0
    while True:
        rc, stdout, _stderr = host.run([docker_bin, "info", "--format", "{{.ServerVersion}}"])
        if rc == 0 and stdout.strip():
            return stdout.strip()
        if waited >= timeout:
            return None
        host.sleep(interval)
        waited += interval


def restart_with_rollback(host, unit, docker_bin, timeout, previous):
    """Restart `unit`; on failure restore `previous`, start again, and explain.

    Returns a dict: ok, server_version, message, rolled_back, daemon_said, commands (what ran, in order).
    """
    commands = []

    def run(argv):
        commands.append(argv)
        return host.run(argv)

    _rc, mark, _err = run(["journalctl", "--unit=" + unit, "--lines=0", "--show-cursor", "--quiet"])
    cursor = journal_cursor(mark)
    run(["systemctl", "daemon-reload"])
    rc, _out, restart_err = run(["systemctl", "restart", unit])
    version = wait_until_answers(host, docker_bin, timeout) if rc == 0 else None
    if version:
        return {"ok": True, "server_version": version, "rolled_back": False, "commands": commands}

    journal_argv = ["journalctl", "--unit=" + unit, "--no-pager", "--output=cat"]
    journal_argv.append("--after-cursor=" + cursor if cursor else "--lines=40")
    _rc, journal, _err = run(journal_argv)
    said = daemon_said(journal.splitlines() or restart_err.splitlines())
    restored = None
    running_again = False
    rollback_failure = None
    if previous is not None:
        host.restore(previous)
        restored = True
        # The failed attempts used up systemd's start limit; without this the start below is refused.
        run(["systemctl", "reset-failed", unit])
        rc, _out, err = run(["systemctl", "restart", unit])
        if rc == 0:
            running_again = wait_until_answers(host, docker_bin, timeout) is not None
        else:
            rollback_failure = (err.strip().splitlines() or ["systemd gave no reason"])[0]
    return {
        "ok": False,
        "server_version": None,
        "rolled_back": bool(restored),
        "daemon_said": said,
        "message": failure_message(said, restored, running_again, rollback_failure),
        "commands": commands,
    }
