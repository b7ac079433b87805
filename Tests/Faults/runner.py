"""Running a built tool: each from a small process of its own (the zygote, so that its peak RSS
is its own), in a slot directory of its own, with a timeout, a SIGTERM, a pipe or a full
device as the case asks, and judging the result.

All run-time state (the slots, the spawners) lives in a Runner instance; the timeout is read
from common at run time."""

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import common
from judge import judge, normalise


TEMP_NAME = re.compile(r"^\..+\.tmp\.")


# the two across exec), so tools started from this script, which holds fixtures and results,
# would report this script's size as theirs. A small process started before any of that forks
# them instead, and reports each one's own peak.
ZYGOTE = r"""
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=int(sys.argv[1]))
while True:
    msg, fds, _, _ = socket.recv_fds(s, 1 << 20, 3)
    if not msg:
        break
    req = json.loads(msg)
    pid = os.fork()
    if pid == 0:
        try:
            for i, fd in enumerate(fds):
                os.dup2(fd, i)
            os.closerange(3, 1 << 16)
            os.chdir(req["cwd"])
            os.execve(req["argv"][0], req["argv"], req["env"])
        except OSError as e:
            os.write(2, ("faults: cannot run %s: %s\n" % (req["argv"][0], e)).encode())
        os._exit(127)
    for fd in fds:
        os.close(fd)
    s.send(json.dumps({"pid": pid}).encode())
    _, status, usage = os.wait4(pid, 0)
    s.send(json.dumps({"status": status, "rss": usage.ru_maxrss * 1024}).encode())
"""


class Spawner:
    """Starts one tool at a time from a small process of its own; see ZYGOTE."""

    def __init__(self):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen([sys.executable, "-S", "-c", ZYGOTE, str(theirs.fileno())],
                                     pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        theirs.close()
        self.sock = mine

    def _reply(self):
        msg = self.sock.recv(1 << 16)
        if not msg:
            sys.exit("faults: error: the process that starts the tools exited (status %s)"
                     % self.proc.poll())
        return json.loads(msg)

    def start(self, argv, cwd, env, stdin, stdout, stderr):
        """Returns the started tool's pid; the three descriptors become its 0, 1 and 2."""
        req = json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode()
        socket.send_fds(self.sock, [req], [stdin, stdout, stderr])
        return self._reply()["pid"]

    def wait(self):
        """Waits for the tool started last: (wait status, peak resident bytes)."""
        r = self._reply()
        return r["status"], r["rss"]

    def close(self):
        self.sock.close()
        self.proc.wait()


class Runner:
    def __init__(self, work, jobs, keep):
        self.work, self.jobs, self.keep = work, jobs, keep
        self.slots = queue.Queue()
        self.spawners = {}
        for i in range(jobs):
            d = os.path.join(work, "slot%d" % i)
            os.makedirs(d)
            self.slots.put(d)
            self.spawners[d] = Spawner()
        self.env = dict(os.environ, LC_ALL="C")

    def close(self):
        for sp in self.spawners.values():
            sp.close()

    def _prepare(self, slot, case):
        run = os.path.join(slot, "run")
        if os.path.exists(run):
            shutil.rmtree(run)
        os.makedirs(os.path.join(run, "out"))
        os.makedirs(os.path.join(run, "tmp"))
        paths = {}
        for name, content in case.files.items():
            data = content() if callable(content) else content
            p = os.path.join(run, name)
            with open(p, "wb") as f:
                f.write(data)
            paths[name] = p
        return run, paths

    def execute(self, case):
        slot = self.slots.get()
        try:
            return self._execute(slot, case)
        finally:
            self.slots.put(slot)

    def _execute(self, slot, case):
        run, paths = self._prepare(slot, case)
        out = os.path.join(run, "out")
        argv = [a.format(OUT=out, **{k.replace(".", "_"): v for k, v in paths.items()})
                for a in case.argv]
        env = dict(self.env, TMPDIR=os.path.join(run, "tmp"))
        ferr = open(os.path.join(run, "stderr"), "wb")
        reader = feeder = None
        if case.expect == "pipe":
            reader, fout = os.pipe()
        elif case.stdout_to:
            fout = os.open(case.stdout_to, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        else:
            fout = os.open(os.path.join(run, "stdout"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        if case.stdin_pipe:
            fin, writer = os.pipe()
        else:
            fin = os.open(os.devnull, os.O_RDONLY)
        start = time.monotonic()
        spawner = self.spawners[slot]
        pid = spawner.start(argv, out, env, fin, fout, ferr.fileno())
        timed_out = []

        def kill():
            timed_out.append(True)
            _signal(pid, signal.SIGKILL)
        # Armed before anything else can fail: a tool left waiting on its stdin is still killed.
        timer = threading.Timer(common.TIMEOUT, kill)
        timer.start()
        os.close(fin)
        os.close(fout)
        ferr.close()
        if case.stdin_pipe:
            try:
                data = common.read_file(paths[case.stdin_pipe])
            except BaseException:
                os.close(writer)  # the tool sees the end of its input rather than waiting
                raise
            feeder = threading.Thread(target=_feed, args=(os.fdopen(writer, "wb"), data))
            feeder.start()
        term = None
        if case.sigterm_after is not None:
            term = threading.Timer(case.sigterm_after, lambda: _signal(pid, signal.SIGTERM))
            term.start()
        if reader is not None:
            with os.fdopen(reader, "rb") as f:
                f.read(4096)
        status, peak = spawner.wait()
        timer.cancel()
        if term:
            term.cancel()
        if feeder:
            feeder.join()
        elapsed = time.monotonic() - start
        stderr = open(os.path.join(run, "stderr"), "rb").read()
        stdout = b""
        if case.expect != "pipe" and not case.stdout_to:
            stdout = open(os.path.join(run, "stdout"), "rb").read()
        result = {"status": status, "rss": peak, "stderr": stderr,
                  "stdout": stdout, "elapsed": elapsed, "timed_out": bool(timed_out),
                  "argv": argv, "run": run}
        result["outputs"] = {}
        result["leftovers"] = []
        for d in (out, os.path.join(run, "tmp")):
            for name in sorted(os.listdir(d)):
                if d.endswith("tmp") or TEMP_NAME.match(name):
                    result["leftovers"].append(os.path.relpath(os.path.join(d, name), run))
        for name in case.outputs:
            p_out = os.path.join(out, name)
            if os.path.exists(p_out):
                result["outputs"][name] = normalise(name, open(p_out, "rb").read())
        judge(case, result)
        if case.failures and self.keep:
            keep = os.path.join(self.work, "failed", "%05d" % case.id)
            shutil.copytree(run, keep)
            cmd = " ".join(_quote(a.replace(run, keep)) for a in argv)
            if case.stdin_pipe:
                cmd = "cat ../%s | %s" % (case.stdin_pipe, cmd)
            if case.stdout_to:
                cmd += " > " + case.stdout_to
            if case.expect == "pipe":
                cmd += " | head -c 4096 >/dev/null"
            case.reproduce = "cd %s/out && %s" % (keep, cmd)
        return result


def _feed(pipe, data):
    try:
        pipe.write(data)
        pipe.close()
    except (BrokenPipeError, ValueError):
        pass


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _quote(a):
    return a if re.match(r"^[\w./,=+-]+$", a) else "'" + a.replace("'", "'\\''") + "'"

