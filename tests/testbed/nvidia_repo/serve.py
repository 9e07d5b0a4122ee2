# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Serve a directory (the fixture NVIDIA repository) over HTTP on 127.0.0.1, as a daemon.

    serve.py start  --dir D --port P     idempotent; waits until the port answers
    serve.py stop   --dir D [--port P]   stops the server started for D (the port is not needed)
    serve.py status --dir D              exit 0 when it runs, 3 when not

Missing paths answer 404 with http.server's HTML error page, which is what a user's `curl URL > x.list` writes
into a list file when NVIDIA's per-distribution lists are gone. The pid, port and log live next to D
(D.serve.json, D.serve.log), so one server per directory; a second directory (OUT-wrongkey) gets its own port.
"""

import argparse
import functools
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import time

BIND = "127.0.0.1"


def state_path(directory):
    return os.path.abspath(directory).rstrip("/") + ".serve.json"


def read_state(directory):
    try:
        with open(state_path(directory)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def process_alive(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            command = handle.read().split(b"\0")
    except OSError:
        return False
    return any(part.endswith(b"serve.py") for part in command) and b"_serve" in command


def port_answers(port):
    try:
        with socket.create_connection((BIND, port), timeout=1):
            return True
    except OSError:
        return False


def serve_forever(directory, port):
    handler = functools.partial(QuietHandler, directory=directory)
    server = http.server.ThreadingHTTPServer((BIND, port), handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class names it so
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))
        sys.stderr.flush()


def start(directory, port):
    directory = os.path.abspath(directory)
    if not os.path.isdir(directory):
        sys.exit("serve.py: %s is not a directory" % directory)
    state = read_state(directory)
    if state and process_alive(state["pid"]):
        if state["port"] == port and port_answers(port):
            print("serving %s on http://%s:%d (pid %d, already running)" % (directory, BIND, port, state["pid"]))
            return 0
        stop(directory)
    if port_answers(port):
        sys.exit("serve.py: port %d on %s is taken by another program" % (port, BIND))
    with open(directory.rstrip("/") + ".serve.log", "ab") as log:
        child = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "_serve", "--dir", directory, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    with open(state_path(directory), "w") as handle:
        json.dump({"pid": child.pid, "port": port, "dir": directory}, handle)
    deadline = time.time() + 15
    while time.time() < deadline:
        if child.poll() is not None:
            sys.exit("serve.py: server exited with %s; see %s.serve.log" % (child.returncode, directory))
        if port_answers(port):
            print("serving %s on http://%s:%d (pid %d)" % (directory, BIND, port, child.pid))
            return 0
        time.sleep(0.1)
    sys.exit("serve.py: server did not answer on port %d within 15 s" % port)


def stop(directory):
    state = read_state(directory)
    if not state:
        print("not running: %s" % os.path.abspath(directory))
        return 0
    pid = state["pid"]
    if process_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 10
        while process_alive(pid) and time.time() < deadline:
            time.sleep(0.1)
    os.unlink(state_path(directory))
    print("stopped server for %s (pid %d)" % (state["dir"], pid))
    return 0


def status(directory):
    state = read_state(directory)
    if state and process_alive(state["pid"]) and port_answers(state["port"]):
        print("serving %s on http://%s:%d (pid %d)" % (state["dir"], BIND, state["port"], state["pid"]))
        return 0
    print("not running: %s" % os.path.abspath(directory))
    return 3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop", "status", "_serve"])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    if args.action == "_serve":
        serve_forever(args.dir, args.port)
        return 0
    if args.action == "start":
        return start(args.dir, args.port)
    if args.action == "stop":
        return stop(args.dir)
    return status(args.dir)


if __name__ == "__main__":
    sys.exit(main())
