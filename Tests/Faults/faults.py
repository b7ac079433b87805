#!/usr/bin/env python3
"""Fault injection against the built ann-tools binaries: proves that they fail closed.

Builds a real index of the bundled siftsmall sample and real router models of every kind in a
temporary directory, records what the readers answer for the undamaged files, then runs the
readers on damaged copies (single-bit flips of every header and trailer bit, every directory
byte changed, a seeded sample of frame and body bytes, truncation), on hostile headers of every
format the tools read (written with valid checksums, so that the bounds checks must refuse
them), on mismatched inputs, under SIGTERM, into a closed pipe and into a full device.

A case FAILS on: exit 0 with outputs that differ from the undamaged run (or exit 0 on an input
that must be refused); a nonzero exit that is not exactly one stderr line
`ann-xxx: error: ...` with a sysexits code; death by a signal; peak RSS above its bound; a
temporary file left behind; an output file left behind by a failed run; a hang.

Standard library only. Usage: faults.py --bin DIR --data DIR [--quick] [--seed N] [--keep] [--only REGEX]
"""

import argparse
import concurrent.futures
import json
import os
import queue
import random
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

SYSEXITS = {64, 65, 66, 69, 73, 74, 77}
ERROR_LINE = re.compile(r"^ann-[a-z]+: error: .+")
TEMP_NAME = re.compile(r"^\..+\.tmp\.")
MB = 1 << 20
HOSTILE_RSS = 400 * MB
TIMEOUT = 60.0
# Every run is confined to this much address space, so that a runaway allocation dies (and
# fails its case) instead of taking the machine's memory; the RSS bounds lie far below it.
ADDRESS_SPACE = 2 << 30


# ---------------------------------------------------------------------------------------------
# CRC-32C (Castagnoli), the checksum of every ann-tools format.

def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = CRC_TABLE
    for b in data:
        crc = (crc >> 8) ^ t[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283, "CRC-32C implementation is wrong"


def u16(b, o): return struct.unpack_from("<H", b, o)[0]
def u32(b, o): return struct.unpack_from("<I", b, o)[0]
def u64(b, o): return struct.unpack_from("<Q", b, o)[0]
def put32(b, o, v): struct.pack_into("<I", b, o, v & 0xFFFFFFFF)
def put64(b, o, v): struct.pack_into("<Q", b, o, v & 0xFFFFFFFFFFFFFFFF)


# ---------------------------------------------------------------------------------------------
# Format knowledge (ann-formats(5)). Every field location comes from these functions, so that
# a format revision changes them and nothing else. Version 2 adds the header CRC and the
# 48-byte index trailer; version 1 is understood only so that the mechanics can run against
# older builds.

HEADER_SIZE = 32
HEADER_CRC = 24          # v2: CRC-32C of header bytes 0..23
HEADER_FIELDS = {"magic": 0, "version": 4, "type": 6, "metric": 7, "dim": 8, "aux": 12, "count": 16}


def parse_header(b):
    return {"magic": bytes(b[0:4]), "version": u16(b, 4), "type": b[6], "metric": b[7],
            "dim": u32(b, 8), "aux": u32(b, 12), "count": u64(b, 16)}


def make_header(magic, version, type_, metric, dim, aux, count):
    h = bytearray(HEADER_SIZE)
    h[0:4] = magic
    struct.pack_into("<HBBIIQ", h, 4, version, type_, metric, dim & 0xFFFFFFFF, aux & 0xFFFFFFFF,
                     count & 0xFFFFFFFFFFFFFFFF)
    seal_header(h)
    return h


def seal_header(buf):
    """Recomputes the header CRC (version 2 and later), as a writer that patches a field does."""
    if u16(buf, 4) >= 2:
        put32(buf, HEADER_CRC, crc32c(buf[0:HEADER_CRC]))


def header_crc_ok(b):
    return u16(b, 4) < 2 or u32(b, HEADER_CRC) == crc32c(b[0:HEADER_CRC])


# Index trailer fields per format version: offsets inside the trailer.
TRAILERS = {
    1: {"size": 32, "magic": 0, "dircrc": 4, "diroff": 8, "fingerprint": 16, "layout": 24,
        "level": 25},
    2: {"size": 48, "magic": 0, "dircrc": 4, "diroff": 8, "fingerprint": 16, "basefp": 24,
        "layout": 32, "level": 33, "count": 40, "crc": 44},
}
DIR_ENTRY = 24   # offset u64, size u32, vectors u32, crc u32, reserved u32


def index_layout(b):
    """Where everything lies in a packed index (ANNI)."""
    h = parse_header(b)
    t = TRAILERS[h["version"]]
    tstart = len(b) - t["size"]
    k, dim = h["aux"], h["dim"]
    diroff = u64(b, tstart + t["diroff"])
    cent = diroff + DIR_ENTRY * k
    return {"header": h, "trailer": t, "tstart": tstart, "k": k, "dim": dim, "diroff": diroff,
            "centroids": cent, "dirend": cent + 4 * k * dim,
            "entries": [diroff + DIR_ENTRY * c for c in range(k)]}


def check_index(b):
    """Asserts that this script reads the index as the tools wrote it (its CRCs verify)."""
    lay = index_layout(b)
    t, ts = lay["trailer"], lay["tstart"]
    assert b[ts:ts + 4] == b"ANNT", "trailer magic"
    assert lay["dirend"] == ts, "directory does not end at the trailer"
    assert u32(b, ts + t["dircrc"]) == crc32c(b[lay["diroff"]:ts]), "directory CRC"
    if "crc" in t:
        assert u32(b, ts + t["crc"]) == crc32c(b[ts:ts + t["crc"]]), "trailer CRC"
    assert header_crc_ok(b), "header CRC"
    for e in lay["entries"]:
        off, size, crc = u64(b, e), u32(b, e + 8), u32(b, e + 16)
        assert crc32c(b[off:off + size]) == crc, "frame CRC"
    return lay


def seal_index(buf):
    """Recomputes every checksum of an index after a field was changed on purpose."""
    lay = index_layout(buf)
    t, ts = lay["trailer"], lay["tstart"]
    put32(buf, ts + t["dircrc"], crc32c(buf[lay["diroff"]:ts]) if lay["diroff"] < ts else 0)
    if "crc" in t:
        put32(buf, ts + t["crc"], crc32c(buf[ts:ts + t["crc"]]))
    seal_header(buf)


def seal_index_fields(buf, tstart, trailer):
    """Like seal_index for a trailer whose directory offset no longer points at the directory:
    the trailer CRC and header CRC are recomputed, the directory CRC is left as it was."""
    if "crc" in trailer:
        put32(buf, tstart + trailer["crc"], crc32c(buf[tstart:tstart + trailer["crc"]]))
    seal_header(buf)


MODEL_FIXED = 32
# Offsets inside the model's fixed bytes (after the header).
MODEL_FIELDS = {"fingerprint": 0, "a": 8, "b": 12, "kind": 16, "arch": 17, "reserved": 18,
                "w": 20, "reserved2": 24}


def model_layout(b):
    h = parse_header(b)
    return {"header": h, "fixed": HEADER_SIZE, "body": HEADER_SIZE + MODEL_FIXED,
            "crc": len(b) - 4, "arch": b[HEADER_SIZE + MODEL_FIELDS["arch"]]}


def check_model(b):
    lay = model_layout(b)
    assert header_crc_ok(b), "model header CRC"
    assert u32(b, lay["crc"]) == crc32c(b[HEADER_SIZE:lay["crc"]]), "model body CRC"
    assert HEADER_SIZE + MODEL_FIXED + 4 * lay["header"]["count"] + 4 == len(b), "model count"
    return lay


def seal_model(buf):
    put32(buf, len(buf) - 4, crc32c(buf[HEADER_SIZE:len(buf) - 4]))
    seal_header(buf)


# ---------------------------------------------------------------------------------------------
# Running a tool and judging what it did.

class Case:
    """One run of a built tool on (possibly) damaged inputs.

    expect: "same" (refuse in one line, or exit 0 with the undamaged outputs), "refuse" (must
    be refused), "mismatch" (must be refused with exit 65), "signal" (a SIGTERM was sent:
    death by it, or exit 0, with no partial output), "pipe" (exit 0), "full" (exit 74)."""

    def __init__(self, cls, desc, argv, files=None, expect="same", baseline=None, rss_bound=None,
                 outputs=(), stdout_compared=False, sigterm_after=None, stdout_to=None):
        self.cls, self.desc, self.argv = cls, desc, argv
        self.files = files or {}          # name -> bytes, or callable returning bytes
        self.expect, self.baseline = expect, baseline
        self.rss_bound = rss_bound
        self.outputs, self.stdout_compared = outputs, stdout_compared
        self.sigterm_after, self.stdout_to = sigterm_after, stdout_to
        self.failures = []
        self.id = None
        self.stdin_pipe = None            # name of a file in files to feed through a pipe


def normalise(name, data):
    """Drops what legitimately changes from run to run: a TSV's throughput column."""
    if not name.endswith(".tsv"):
        return data
    lines = data.decode(errors="replace").split("\n")
    drop = None
    out = []
    for line in lines:
        cols = line.split("\t")
        if drop is None and not line.startswith("#") and "qps" in cols:
            drop = cols.index("qps")
        if drop is not None and len(cols) > drop and not line.startswith("#"):
            del cols[drop]
        out.append("\t".join(cols))
    return "\n".join(out).encode()


# A child's ru_maxrss starts from its parent's resident size at fork (Linux keeps the larger of
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
        os.close(fin)
        os.close(fout)
        ferr.close()
        if case.stdin_pipe:
            feeder = threading.Thread(target=_feed, args=(os.fdopen(writer, "wb"),
                                                          read_file(paths[case.stdin_pipe])))
            feeder.start()
        timed_out = []

        def kill():
            timed_out.append(True)
            _signal(pid, signal.SIGKILL)
        timer = threading.Timer(TIMEOUT, kill)
        timer.start()
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


def judge(case, r):
    f = case.failures
    status = r["status"]
    if r["timed_out"]:
        f.append("timeout: no exit within %ds" % TIMEOUT)
        return
    if r["rss"] > case.rss_bound:
        f.append("peak RSS %d MB above the bound %d MB" % (r["rss"] // MB, case.rss_bound // MB))
    if r["leftovers"]:
        f.append("temporary file left behind: %s" % ", ".join(r["leftovers"]))
    base = case.baseline
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if case.expect == "signal" and sig == signal.SIGTERM:
            for name in case.outputs:   # a renamed output must be the complete one
                if name in r["outputs"] and r["outputs"][name] != base["outputs"].get(name):
                    f.append("partial output %s after SIGTERM" % name)
            return
        f.append("killed by %s%s" % (signal.Signals(sig).name, _first_line(r["stderr"])))
        return
    code = os.WEXITSTATUS(status)
    if code == 0:
        if case.expect in ("refuse", "mismatch"):
            f.append("exit 0 on an input that must be refused")
        elif case.expect == "full":
            f.append("exit 0 although every write failed")
        elif case.expect in ("same", "signal"):
            for name in case.outputs:
                if r["outputs"].get(name) != base["outputs"].get(name):
                    f.append("exit 0 with a wrong answer: %s differs from the undamaged run"
                             % name if name in r["outputs"] else
                             "exit 0 without its output %s" % name)
            if case.stdout_compared and r["stdout"] != base["stdout"]:
                f.append("exit 0 with a wrong answer: stdout differs from the undamaged run")
        return
    if case.expect == "pipe":
        f.append("exit %d on a closed pipe (want 0)%s" % (code, _first_line(r["stderr"])))
        return
    lines = r["stderr"].decode(errors="replace").splitlines()
    if len(lines) != 1 or not ERROR_LINE.match(lines[0]):
        f.append("stderr is not one error line: %r" % r["stderr"][:300].decode(errors="replace"))
    if code not in SYSEXITS:
        f.append("exit %d is not a sysexits code" % code)
    if case.expect == "mismatch" and code != 65:
        f.append("exit %d for a mismatched input (want 65)%s" % (code, _first_line(r["stderr"])))
    if case.expect == "full" and code != 74:
        f.append("exit %d writing to a full device (want 74)" % code)
    for name in case.outputs:
        if name in r["outputs"]:
            f.append("output %s left behind by a failed run" % name)


def _first_line(b):
    s = b.decode(errors="replace").strip().splitlines()
    return (": " + s[0][:160]) if s else ""


# ---------------------------------------------------------------------------------------------
# Fixtures: everything built at run time from the bundled data.

def zstd_decompress(path):
    z = shutil.which("zstd")
    if not z:
        sys.exit("faults: error: zstd(1) is needed to cut the fixtures")
    return subprocess.run([z, "-dc", path], check=True, capture_output=True).stdout


def zstd(data):
    return subprocess.run([shutil.which("zstd") or "zstd", "-q", "-c", "-3"], input=data,
                          check=True, capture_output=True).stdout


def read_file(p):
    with open(p, "rb") as f:
        return f.read()


def understood(check, data, name):
    """Runs a format check on a fixture the tools wrote: if this script's reading of the
    format disagrees with the tools', every verdict would be meaningless."""
    try:
        return check(data)
    except (AssertionError, KeyError, struct.error, IndexError) as e:
        sys.exit("faults: error: %s does not read as this script expects ann-formats(5) to say "
                 "(%s): update the format functions" % (name, e or type(e).__name__))


class Fixtures:
    def __init__(self, bin_dir, data, work, quiet_runner):
        self.bin, self.data, self.dir = bin_dir, data, os.path.join(work, "fixtures")
        os.makedirs(self.dir)
        self.runner = quiet_runner

    def tool(self, name):
        return os.path.join(self.bin, name)

    def path(self, name):
        return os.path.join(self.dir, name)

    def sh(self, *argv):
        r = subprocess.run(list(argv), cwd=self.dir, capture_output=True)
        if r.returncode != 0:
            sys.exit("faults: error: building a fixture failed: %s\n%s"
                     % (" ".join(argv), r.stderr.decode(errors="replace")))
        return r

    def build(self, k):
        T, P = self.tool, self.path
        base = os.path.join(self.data, "siftsmall_base.fvecs.zst")
        self.k = k
        self.base = base
        self.queries = os.path.join(self.data, "siftsmall_query.fvecs.zst")
        train_all = zstd_decompress(os.path.join(self.data, "bigann10k_base.bvecs.zst"))
        rec = 4 + u32(train_all, 0)
        with open(P("train.bvecs"), "wb") as f:
            f.write(train_all[:2000 * rec])
        with open(P("bigann10k.bvecs"), "wb") as f:
            f.write(train_all)
        sift = zstd_decompress(base)
        srec = 4 + 4 * u32(sift, 0)
        with open(P("base1k.fvecs"), "wb") as f:
            f.write(sift[:1000 * srec])
        self.sh(T("ann-kmeans"), "-q", "-k", str(k), "--seed", "1", "--assignments", "assign.anna",
                "-o", "centroids.annv", base)
        self.sh(T("ann-pack"), "-q", "--centroids", "centroids.annv", "--assignments", "assign.anna",
                "-o", "index.anni", base)
        self.sh(T("ann-groundtruth"), "-q", "--base", base, "-k", "10", "-o", "gt.annn",
                self.queries)
        self.sh(T("ann-groundtruth"), "-q", "--base", base, "-k", "1", "-o", "train-gt.annn",
                "train.bvecs")
        self.sh(T("ann-groundtruth"), "-q", "--base", base, "-k", "10", "-o", "gt.ivecs",
                self.queries)
        self.sh(T("ann-query"), "-q", "--index", "index.anni", "--nprobe", str(k), "-k", "10",
                "-o", "results.annn", self.queries)
        # Another clustering of the same base (for mismatched models) and another K.
        self.sh(T("ann-kmeans"), "-q", "-k", str(k), "--seed", "2", "--assignments",
                "assign-s2.anna", "-o", "centroids-s2.annv", base)
        self.sh(T("ann-pack"), "-q", "--centroids", "centroids-s2.annv", "--assignments",
                "assign-s2.anna", "-o", "index-s2.anni", base)
        half = max(2, k // 2)
        self.sh(T("ann-kmeans"), "-q", "-k", str(half), "--seed", "1", "--assignments",
                "assign-half.anna", "-o", "centroids-half.annv", base)
        self.sh(T("ann-kmeans"), "-q", "--assignments",
                "assign-half.ivecs", "--centroids", "centroids-half.annv", base)
        self.sh(T("ann-kmeans"), "-q", "-k", str(2 * k), "--seed", "1", "--assignments",
                "assign-double.anna", "-o", "centroids-double.annv", base)
        # An assignment of another base (bigann10k, as many vectors) to these centroids.
        self.sh(T("ann-kmeans"), "-q", "--centroids", "centroids.annv", "--assignments",
                "assign-other.anna", "bigann10k.bvecs")
        self.sh(T("ann-kmeans"), "-q", "--centroids", "centroids.annv", "--assignments",
                "assign-other.ivecs", "bigann10k.bvecs")
        # Small fixtures for the hostile-header runs.
        self.sh(T("ann-kmeans"), "-q", "-k", "4", "--seed", "1", "--assignments", "assign1k.anna",
                "-o", "centroids1k.annv", "base1k.fvecs")
        help_train = self.sh(T("ann-train"), "--help").stdout.decode()
        help_dup = self.sh(T("ann-dup"), "--help").stdout.decode()
        # Format version 2 makes the index the only source of membership: the option goes.
        takes = re.compile(r"^\s+--assignments\b", re.M)
        self.train_assign = ["--assignments", P("assign.anna")] if takes.search(help_train) else []
        self.dup_assign = ["--assignments", P("assign.anna")] if takes.search(help_dup) else []
        train = [T("ann-train"), "-q", "--index", "index.anni", "--gt", "train-gt.annn", "--seed", "1"]
        train += ["--assignments", "assign.anna"] if self.train_assign else []
        self.models = {}
        kinds = [("mlp-residual", ["--router", "residual", "--hidden", "16", "--epochs", "2"]),
                 ("mlp-plain", ["--router", "mlp", "--hidden", "16", "--epochs", "2"]),
                 ("kernel-f16", ["--router", "kernel", "--points", "8", "--epochs", "1"]),
                 ("kernel-f32", ["--router", "kernel", "--points", "8", "--epochs", "1",
                                 "--precision", "float32"])]
        # The PQ router, where this ann-train has it: its model holds codes as bytes.
        if re.search(r"^\s+--calibration\b", help_train, re.M):
            kinds += [("pq-learned", ["--router", "pq", "--epochs", "2"]),
                      ("pq-temperature", ["--router", "pq", "--calibration", "temperature"])]
        for name, opts in kinds:
            self.sh(*(train + opts + ["-o", name + ".annm", "train.bvecs"]))
            self.models[name] = read_file(P(name + ".annm"))
            understood(check_model, self.models[name], name + ".annm")
        # A model for the other clustering (seed 2).
        self.sh(*([T("ann-train"), "-q", "--index", "index-s2.anni", "--gt", "train-gt.annn",
                   "--router", "kernel", "--points", "8", "--epochs", "1", "-o", "kernel-s2.annm"]
                  + (["--assignments", "assign-s2.anna"] if self.train_assign else [])
                  + ["train.bvecs"]))
        self.index = read_file(P("index.anni"))
        self.layout = understood(check_index, self.index, "index.anni")
        self.version = self.layout["header"]["version"]


# ---------------------------------------------------------------------------------------------
# The readers ("probes"): how each tool is run on a (damaged) index or model.

class Probe:
    def __init__(self, name, argv, outputs, stdout_compared=False, input_name=None):
        self.name, self.argv, self.outputs = name, argv, outputs
        self.stdout_compared = stdout_compared
        self.input_name = input_name
        self.baseline = None
        self.rss_bound = None


def probes(fx):
    T, P, k = fx.tool, fx.path, str(fx.k)
    q = fx.queries
    idx = {
        "ann-query": Probe("ann-query", [T("ann-query"), "-q", "--index", "{index_anni}",
                                         "--nprobe", k, "-k", "10", "-o", "found.annn", q],
                           ["found.annn"]),
        "ann-eval sweep": Probe("ann-eval sweep", [T("ann-eval"), "sweep", "-q", "--index",
                                                   "{index_anni}", "--gt", P("gt.annn"),
                                                   "--nprobe", "1," + k, "-o", "curve.tsv", q],
                                ["curve.tsv"], stdout_compared=True),
        "ann-train --init": Probe("ann-train --init",
                                  [T("ann-train"), "-q", "--init", P("kernel-f16.annm"),
                                   "--index", "{index_anni}", "--gt", P("train-gt.annn"),
                                   "--epochs", "1"] + fx.train_assign
                                  + ["-o", "model.annm", P("train.bvecs")], ["model.annm"]),
        "ann-dup": Probe("ann-dup", [T("ann-dup"), "-q", "--model", P("kernel-f16.annm"),
                                     "--index", "{index_anni}", "--gt", P("train-gt.annn")]
                         + fx.dup_assign + ["-o", "assign.anna", P("train.bvecs")],
                         ["assign.anna"]),
    }
    mdl = {
        "ann-query --model": Probe("ann-query --model",
                                   [T("ann-query"), "-q", "--index", P("index.anni"), "--model",
                                    "{model_annm}", "--nprobe", "1", "-k", "10", "-o",
                                    "found.annn", q], ["found.annn"]),
        "ann-eval sweep --model": Probe("ann-eval sweep --model",
                                        [T("ann-eval"), "sweep", "-q", "--index", P("index.anni"),
                                         "--model", "{model_annm}", "--gt", P("gt.annn"),
                                         "--nprobe", "1,2", "-o", "curve.tsv", q],
                                        ["curve.tsv"], stdout_compared=True),
        "ann-train --init": Probe("ann-train --init",
                                  [T("ann-train"), "-q", "--init", "{model_annm}", "--index",
                                   P("index.anni"), "--gt", P("train-gt.annn"), "--epochs", "1"]
                                  + fx.train_assign + ["-o", "model.annm", P("train.bvecs")],
                                  ["model.annm"]),
        "ann-dup": Probe("ann-dup", [T("ann-dup"), "-q", "--model", "{model_annm}", "--index",
                                     P("index.anni"), "--gt", P("train-gt.annn")]
                         + fx.dup_assign + ["-o", "assign.anna", P("train.bvecs")],
                         ["assign.anna"]),
    }
    return idx, mdl


def record_baseline(runner, probe, files, label):
    """Runs a probe twice on undamaged inputs: both must succeed and agree."""
    results = []
    for _ in range(2):
        c = Case("baseline", label, probe.argv, files=files, expect="baseline",
                 rss_bound=1 << 60, outputs=probe.outputs, stdout_compared=probe.stdout_compared)
        c.id = -1
        r = runner.execute(c)
        if r["status"] != 0 or r["leftovers"]:
            sys.exit("faults: error: the undamaged run of %s failed: %s"
                     % (label, r["stderr"].decode(errors="replace").strip()))
        for name in probe.outputs:
            if name not in r["outputs"]:
                sys.exit("faults: error: the undamaged run of %s wrote no %s" % (label, name))
        results.append(r)
    a, b = results
    if a["outputs"] != b["outputs"] or (probe.stdout_compared and a["stdout"] != b["stdout"]):
        sys.exit("faults: error: two undamaged runs of %s disagree; outputs cannot be compared"
                 % label)
    rss = max(a["rss"], b["rss"])
    return {"outputs": a["outputs"], "stdout": a["stdout"], "rss": rss}


def relative_bound(rss):
    """A damaged input may cost a little more than an undamaged one, never a multiple."""
    return 2 * rss + 64 * MB


# ---------------------------------------------------------------------------------------------
# Damage.

def flip(data, off, bit):
    b = bytearray(data)
    b[off] ^= 1 << bit
    return bytes(b)


def xor(data, off, v):
    b = bytearray(data)
    b[off] ^= v
    return bytes(b)


def damage_index(fx, rng, quick):
    """(class, description, bytes-producing callable) for every index corruption."""
    data, lay = fx.index, fx.layout
    L = len(data)
    out = []
    for off in range(HEADER_SIZE):
        for bit in (rng.sample(range(8), 3) if quick else range(8)):
            out.append(("index header bit", "byte %d bit %d" % (off, bit),
                        lambda o=off, b=bit: flip(data, o, b)))
    ts = lay["tstart"]
    for off in range(ts, L):
        for bit in (rng.sample(range(8), 3) if quick else range(8)):
            out.append(("index trailer bit", "trailer byte %d (file offset L-%d) bit %d"
                        % (off - ts, L - off, bit), lambda o=off, b=bit: flip(data, o, b)))
    # Single-bit flips cannot turn one defined code into another (layout 2 into 1): every
    # byte also gets a seeded nonzero xor, and the layout byte the other defined code.
    for off in range(HEADER_SIZE):
        v = rng.randrange(1, 256)
        out.append(("index header byte", "byte %d xor 0x%02x" % (off, v),
                    lambda o=off, x=v: xor(data, o, x)))
    for off in range(ts, L):
        v = rng.randrange(1, 256)
        out.append(("index trailer byte", "trailer byte %d (file offset L-%d) xor 0x%02x"
                    % (off - ts, L - off, v), lambda o=off, x=v: xor(data, o, x)))
    lo = ts + lay["trailer"]["layout"]
    out.append(("index trailer byte", "layout code %d -> %d" % (data[lo], data[lo] ^ 3),
                lambda o=lo: xor(data, o, 3)))
    dir_range = range(lay["diroff"], ts)
    if quick:
        dir_range = rng.sample(list(dir_range), 200) + list(range(lay["diroff"], lay["centroids"]))
        dir_range = sorted(set(dir_range))
    for off in dir_range:
        v = rng.randrange(1, 256)
        where = ("entry %d byte %d" % ((off - lay["diroff"]) // DIR_ENTRY, (off - lay["diroff"]) % DIR_ENTRY)
                 if off < lay["centroids"] else "centroid byte %d" % (off - lay["centroids"]))
        out.append(("index directory byte", "%s xor 0x%02x" % (where, v),
                    lambda o=off, x=v: xor(data, o, x)))
    frames = rng.sample(range(HEADER_SIZE, lay["diroff"]), 120 if quick else 400)
    for off in sorted(frames):
        v = rng.randrange(1, 256)
        out.append(("index frame byte", "file offset %d xor 0x%02x" % (off, v),
                    lambda o=off, x=v: xor(data, o, x)))
    for n in truncations(L, rng, quick, 100):
        out.append(("index truncation", "first %d of %d bytes" % (n, L), lambda n=n: data[:n]))
    return out


def truncations(L, rng, quick, edge, middle_count=50):
    if quick:
        edge, middle_count = 30, 10
    lengths = set(range(0, min(edge, L))) | set(range(max(0, L - edge), L))
    middle = [n for n in range(edge, L - edge)]
    lengths |= set(rng.sample(middle, min(len(middle), middle_count)))
    return sorted(lengths)


def damage_model(name, data, rng, quick, light=False):
    """light: a model whose format another one already covers exhaustively (the plain MLP is
    the residual MLP's format with w = 0): two bits of every byte, smaller samples."""
    out = []
    L = len(data)
    cls = "model %s" % name
    for off in range(HEADER_SIZE + MODEL_FIXED):
        for bit in (rng.sample(range(8), 1 if quick else 2) if quick or light else range(8)):
            part = "header" if off < HEADER_SIZE else "fixed"
            out.append(("%s %s bit" % (cls, part), "byte %d bit %d" % (off, bit),
                        lambda o=off, b=bit: flip(data, o, b)))
    body = list(range(HEADER_SIZE + MODEL_FIXED, L))
    for off in sorted(rng.sample(body, min(len(body), 30 if quick or light else 120))):
        v = rng.randrange(1, 256)
        out.append(("%s body byte" % cls, "byte %d xor 0x%02x" % (off, v),
                    lambda o=off, x=v: xor(data, o, x)))
    for n in truncations(L, rng, quick or light, 80, 40):
        out.append(("%s truncation" % cls, "first %d of %d bytes" % (n, L), lambda n=n: data[:n]))
    return out


# ---------------------------------------------------------------------------------------------
# Hostile headers: small files whose header fields claim absurd sizes; every checksum that
# covers them is valid, so only the bounds checks can refuse them.

def foreign_hostile():
    """(form, description, bytes) for the TEXMEX and big-ann-benchmarks forms."""
    out = []
    pad = bytes(64)
    for form in ("fvecs", "bvecs", "ivecs"):
        for d, what in ((1 << 30, "dim 2^30"), (0x7FFFFFFF, "dim 2^31-1"), (-1, "dim -1"),
                        (-(1 << 31), "dim -2^31"), (0, "dim 0"), (1 << 20, "dim 2^20")):
            out.append((form, what, struct.pack("<i", d) + pad))
        # a first record of dim 4, then one that claims 2^28
        esize = 1 if form == "bvecs" else 4
        out.append((form, "second record dim 2^28",
                    struct.pack("<i", 4) + bytes(4 * esize) + struct.pack("<i", 1 << 28) + pad))
    for form in ("fbin", "u8bin", "ibin"):
        for n, d, what in ((0xFFFFFFFF, 0xFFFFFFFF, "n and d 2^32-1"),
                           (1, 1 << 31, "d 2^31"), (1 << 31, 128, "n 2^31"),
                           (0xFFFFFFFF, 2, "n 2^32-1, d 2"), (1, 0, "d 0"),
                           (1 << 16, 1 << 16, "n*d 2^32")):
            out.append((form, what, struct.pack("<II", n, d) + pad))
    return out


STREAM_KINDS = {"ANNV": ".annv", "ANNN": ".annn", "ANNA": ".anna"}


def native_hostile(version):
    """(kind, description, bytes) for the native streams, with a valid header CRC."""
    out = []
    pad = bytes(256)
    specs = {
        "ANNV": (1, 1, 128, 0),
        "ANNN": (0, 1, 10, 0),
        "ANNA": (0, 0, 2, 8),
    }
    for magic, (t, m, dim, aux) in specs.items():
        def h(**kw):
            f = dict(type_=t, metric=m, dim=dim, aux=aux, count=1)
            f.update(kw)
            return bytes(make_header(magic.encode(), version, f["type_"], f["metric"], f["dim"],
                                     f["aux"], f["count"])) + pad
        out += [
            (magic, "count 2^64-2", h(count=(1 << 64) - 2)),
            (magic, "count 2^40", h(count=1 << 40)),
            (magic, "count 2^31", h(count=1 << 31)),
            (magic, "dim 2^32-1", h(dim=0xFFFFFFFF)),
            (magic, "dim 2^31", h(dim=1 << 31)),
            (magic, "dim 2^24, count unknown", h(dim=1 << 24, count=(1 << 64) - 1)),
            (magic, "dim 0", h(dim=0)),
            (magic, "type code 9", h(type_=9)),
            (magic, "metric code 9", h(metric=9)),
            (magic, "reserved field set", (lambda b: b[:28] + b"\x01" + b[29:])(h())),
        ]
        if magic == "ANNA":
            out += [(magic, "K 2^32-1", h(aux=0xFFFFFFFF)), (magic, "K 0", h(aux=0)),
                    (magic, "dim 3", h(dim=3))]
        if magic == "ANNV":
            out += [(magic, "uint8, count 2^62", h(type_=2, count=1 << 62))]
    return out


def index_hostile(fx):
    """(description, bytes) for an index with hostile fields and recomputed checksums."""
    data, lay = fx.index, fx.layout
    t, ts = lay["trailer"], lay["tstart"]
    out = []

    def trailer_field(field, value, width=8):
        b = bytearray(data)
        (put64 if width == 8 else put32)(b, ts + t[field], value)
        if width == 1:
            b[ts + t[field]] = value
        seal_index_fields(b, ts, t)
        return bytes(b)

    def trailer_byte(field, value):
        b = bytearray(data)
        b[ts + t[field]] = value
        seal_index_fields(b, ts, t)
        return bytes(b)

    diroff = lay["diroff"]
    out += [("directory offset with bit 63 set", trailer_field("diroff", diroff | 1 << 63)),
            ("directory offset 2^64-1", trailer_field("diroff", (1 << 64) - 1)),
            ("directory offset past the end", trailer_field("diroff", len(data) + 4096)),
            ("directory offset 0", trailer_field("diroff", 0)),
            ("directory offset inside the header", trailer_field("diroff", 8)),
            ("directory offset one byte late", trailer_field("diroff", diroff + 1)),
            ("layout code 0", trailer_byte("layout", 0)),
            ("layout code 3", trailer_byte("layout", 3)),
            ("layout code 255", trailer_byte("layout", 255))]
    if "count" in t:
        out.append(("trailer vector count 2^32-1", trailer_field("count", 0xFFFFFFFF, 4)))
        out.append(("zstd level 200", trailer_byte("level", 200)))

    def header_field(field, value, width):
        b = bytearray(data)
        (put64 if width == 8 else put32)(b, HEADER_FIELDS[field], value)
        seal_header(b)
        return bytes(b)

    out += [("K 2^32-1", header_field("aux", 0xFFFFFFFF, 4)),
            ("K 2^20", header_field("aux", 1 << 20, 4)),
            ("K 0", header_field("aux", 0, 4)),
            ("dim 2^31", header_field("dim", 1 << 31, 4)),
            ("dim 2^32-1", header_field("dim", 0xFFFFFFFF, 4)),
            ("count N 2^40", header_field("count", 1 << 40, 8)),
            ("count N 1", header_field("count", 1, 8))]

    def entry(c, off, value, width):
        b = bytearray(data)
        e = lay["entries"][c]
        (put64 if width == 8 else put32)(b, e + off, value)
        seal_index(b)
        return bytes(b)

    out += [("cluster 0 claims 2^26 vectors", entry(0, 12, 1 << 26, 4)),
            ("cluster 0 claims 2^32-1 vectors", entry(0, 12, 0xFFFFFFFF, 4)),
            ("last cluster claims one vector more", entry(fx.k - 1, 12,
                                                         u32(data, lay["entries"][-1] + 12) + 1, 4)),
            ("cluster 0 frame size 2^32-1", entry(0, 8, 0xFFFFFFFF, 4)),
            ("cluster 0 frame offset bit 63", entry(0, 0, u64(data, lay["entries"][0]) | 1 << 63, 8)),
            ("cluster 0 frame offset 2^64-8", entry(0, 0, (1 << 64) - 8, 8)),
            ("cluster 0 frame offset 0 (the header)", entry(0, 0, 0, 8)),
            ("cluster 1 frame = cluster 0 frame", _copy_entry(data, lay, 0, 1)),
            ("entry reserved field set", entry(0, 20, 1, 4))]
    return out


def _copy_entry(data, lay, src, dst):
    b = bytearray(data)
    es, ed = lay["entries"][src], lay["entries"][dst]
    b[ed:ed + 8] = b[es:es + 8]
    b[ed + 8:ed + 12] = b[es + 8:es + 12]
    b[ed + 16:ed + 20] = b[es + 16:es + 20]
    seal_index(b)
    return bytes(b)


def model_hostile(fx):
    """(model, description, bytes) for models with hostile fields and recomputed checksums."""
    out = []
    for name, data in fx.models.items():
        lay = model_layout(data)
        count = lay["header"]["count"]
        f0 = HEADER_SIZE

        def hdr(value, data=data):
            b = bytearray(data)
            put64(b, HEADER_FIELDS["count"], value)
            seal_header(b)
            return bytes(b)

        def fixed(off, value, width=4, data=data):
            b = bytearray(data)
            if width == 1:
                b[f0 + off] = value
            else:
                (put32 if width == 4 else put64)(b, f0 + off, value)
            seal_model(b)
            return bytes(b)

        def fixed_float(off, value, data=data):
            b = bytearray(data)
            struct.pack_into("<f", b, f0 + off, value)
            seal_model(b)
            return bytes(b)

        def weight(i, value, data=data):
            b = bytearray(data)
            struct.pack_into("<f", b, lay["body"] + 4 * i, value)
            seal_model(b)
            return bytes(b)

        b19 = bytearray(data)
        b19[19] = 0x40
        seal_header(b19)
        b19b = bytearray(data)
        b19b[19] = 0x80
        seal_header(b19b)
        out += [(name, "count byte 19 = 0x40 (4 GiB)", bytes(b19)),
                (name, "count byte 19 = 0x80 (8 GiB)", bytes(b19b)),
                (name, "count 2^62", hdr(1 << 62)),
                (name, "count 2^64-2", hdr((1 << 64) - 2)),
                (name, "count one word more", hdr(count + 1)),
                (name, "count one word less", hdr(count - 1)),
                (name, "count 0", hdr(0)),
                (name, "architecture 3", fixed(MODEL_FIELDS["arch"], 3, 1)),
                (name, "reserved fixed bytes set", fixed(MODEL_FIELDS["reserved2"], 1, 8)),
                (name, "w = NaN", fixed_float(MODEL_FIELDS["w"], float("nan"))),
                (name, "w = +inf", fixed_float(MODEL_FIELDS["w"], float("inf"))),
                (name, "first array value NaN", weight(0, float("nan"))),
                # A PQ model's last words are codes, where any bytes are valid: its second
                # codebook value stands in.
                (name, "second array value +inf" if lay["arch"] == 2 else "last array value +inf",
                 weight(1 if lay["arch"] == 2 else count - 1, float("inf")))]
        if lay["arch"] == 0:
            out += [(name, "h1 2^30", fixed(MODEL_FIELDS["a"], 1 << 30)),
                    (name, "h2 2^31", fixed(MODEL_FIELDS["b"], 1 << 31)),
                    (name, "h1 0", fixed(MODEL_FIELDS["a"], 0)),
                    (name, "activation 2", fixed(MODEL_FIELDS["kind"], 2, 1)),
                    (name, "a weight in the middle NaN", weight(count // 2, float("nan")))]
        else:
            out += [(name, "m 2^30 points", fixed(MODEL_FIELDS["a"], 1 << 30)),
                    (name, "m 0 points", fixed(MODEL_FIELDS["a"], 0)),
                    (name, "C = K", fixed(MODEL_FIELDS["b"], fx.k)),
                    (name, "C 2^32-1", fixed(MODEL_FIELDS["b"], 0xFFFFFFFF)),
                    (name, "point type 2", fixed(MODEL_FIELDS["kind"], 2, 1)),
                    (name, "w = -1", fixed_float(MODEL_FIELDS["w"], -1.0))]
    return out


def hostile_cases(fx, rss):
    """Every hostile file fed to every tool that reads that kind of input."""
    T, P, k = fx.tool, fx.path, str(fx.k)
    q = fx.queries
    bound = HOSTILE_RSS
    cases = []

    def add(cls, desc, argv, files, outputs):
        cases.append(Case(cls, desc, argv, files=files, expect="refuse", rss_bound=bound,
                          outputs=outputs))

    vector_readers = [
        ("ann-kmeans", lambda x: [T("ann-kmeans"), "-q", "-k", "2", "-o", "c.annv", x], ["c.annv"]),
        ("ann-kmeans --centroids", lambda x: [T("ann-kmeans"), "-q", "--centroids", x,
                                              "--assignments", "a.anna", P("base1k.fvecs")],
         ["a.anna"]),
        ("ann-groundtruth", lambda x: [T("ann-groundtruth"), "-q", "--base", P("base1k.fvecs"),
                                       "-k", "1", "-o", "g.annn", x], ["g.annn"]),
        ("ann-groundtruth --base", lambda x: [T("ann-groundtruth"), "-q", "--base", x, "-k", "1",
                                              "-o", "g.annn", P("base1k.fvecs")], ["g.annn"]),
        ("ann-pack", lambda x: [T("ann-pack"), "-q", "--centroids", P("centroids1k.annv"),
                                "--assignments", P("assign1k.anna"), "-o", "i.anni", x],
         ["i.anni"]),
        ("ann-pack --centroids", lambda x: [T("ann-pack"), "-q", "--centroids", x,
                                            "--assignments", P("assign1k.anna"), "-o", "i.anni",
                                            P("base1k.fvecs")], ["i.anni"]),
        ("ann-query", lambda x: [T("ann-query"), "-q", "--index", P("index.anni"), "-o",
                                 "f.annn", x], ["f.annn"]),
        ("ann-eval sweep", lambda x: [T("ann-eval"), "sweep", "-q", "--index", P("index.anni"),
                                      "--gt", P("gt.annn"), "--nprobe", "1", "-o", "c.tsv", x],
         ["c.tsv"]),
        ("ann-train", lambda x: [T("ann-train"), "-q", "--index", P("index.anni"), "--gt",
                                 P("train-gt.annn"), "--epochs", "1", "--router", "kernel", "--points", "4"]
         + fx.train_assign + ["-o", "m.annm", x], ["m.annm"]),
        ("ann-dup", lambda x: [T("ann-dup"), "-q", "--model", P("kernel-f16.annm"), "--index",
                               P("index.anni"), "--gt", P("train-gt.annn")] + fx.dup_assign
         + ["-o", "a.anna", x], ["a.anna"]),
    ]
    distance_readers = [
        ("ann-eval score --gt-distances", lambda x: [
            T("ann-eval"), "score", "-q", "--gt", P("gt.ivecs"), "--gt-distances", x,
            P("results.annn")], []),
    ]
    list_readers = [
        ("ann-eval score", lambda x: [T("ann-eval"), "score", "-q", "--gt", P("gt.annn"), x], []),
        ("ann-eval score --gt", lambda x: [T("ann-eval"), "score", "-q", "--gt", x,
                                           P("results.annn")], []),
        ("ann-eval sweep --gt", lambda x: [T("ann-eval"), "sweep", "-q", "--index", P("index.anni"),
                                           "--gt", x, "--nprobe", "1", "-o", "c.tsv", q], ["c.tsv"]),
        ("ann-train --gt", lambda x: [T("ann-train"), "-q", "--index", P("index.anni"), "--gt", x,
                                      "--epochs", "1", "--router", "kernel", "--points", "4"] + fx.train_assign
         + ["-o", "m.annm", P("train.bvecs")], ["m.annm"]),
        ("ann-dup --gt", lambda x: [T("ann-dup"), "-q", "--model", P("kernel-f16.annm"), "--index",
                                    P("index.anni"), "--gt", x] + fx.dup_assign
         + ["-o", "a.anna", P("train.bvecs")], ["a.anna"]),
    ]
    assign_readers = [
        ("ann-pack --assignments", lambda x: [T("ann-pack"), "-q", "--centroids",
                                              P("centroids1k.annv"), "--assignments", x, "-o",
                                              "i.anni", P("base1k.fvecs")], ["i.anni"]),
    ]
    if fx.train_assign:
        assign_readers.append(("ann-train --assignments", lambda x: [
            T("ann-train"), "-q", "--index", P("index.anni"), "--gt", P("train-gt.annn"),
            "--epochs", "1", "--router", "kernel", "--points", "4", "--assignments", x, "-o", "m.annm",
            P("train.bvecs")], ["m.annm"]))
    if fx.dup_assign:
        assign_readers.append(("ann-dup --assignments", lambda x: [
            T("ann-dup"), "-q", "--model", P("kernel-f16.annm"), "--index", P("index.anni"),
            "--gt", P("train-gt.annn"), "--assignments", x, "-o", "a.anna", P("train.bvecs")],
            ["a.anna"]))
    readers_of = {"fvecs": vector_readers + distance_readers, "bvecs": vector_readers,
                  "fbin": vector_readers + distance_readers,
                  "u8bin": vector_readers, "ANNV": vector_readers,
                  "ivecs": list_readers + assign_readers, "ibin": list_readers + assign_readers,
                  "ANNN": list_readers, "ANNA": assign_readers}
    files = [(form, desc, data, "x." + form) for form, desc, data in foreign_hostile()]
    files += [(kind, desc, data, "x" + STREAM_KINDS[kind])
              for kind, desc, data in native_hostile(fx.version)]
    for form, desc, data, fname in files:
        for rname, argv, outs in readers_of[form]:
            add("hostile %s" % form, "%s: %s" % (rname, desc),
                argv("{%s}" % fname.replace(".", "_")), {fname: data}, outs)
    # Compressed or piped, an input's length is not known up front: the claims must then be
    # met by data that actually arrives before they size anything.
    for form, desc, data, fname in files:
        if form in ("fbin", "u8bin", "ibin", "ANNV", "ANNN", "ANNA"):
            rname, argv, outs = readers_of[form][0]
            add("hostile %s (zstd)" % form, "%s: %s" % (rname, desc),
                argv("{%s_zst}" % fname.replace(".", "_")), {fname + ".zst": zstd(data)}, outs)
    stdin_readers = {
        "ANNV": ("ann-query", [T("ann-query"), "-q", "--index", P("index.anni"), "-o", "f.annn",
                               "-"], ["f.annn"]),
        "ANNN": ("ann-eval score", [T("ann-eval"), "score", "-q", "--gt", P("gt.annn"), "-"], []),
        "ANNA": ("ann-pack --assignments", [T("ann-pack"), "-q", "--centroids",
                                            P("centroids1k.annv"), "--assignments", "/dev/stdin",
                                            "-o", "i.anni", P("base1k.fvecs")], ["i.anni"]),
    }
    for form, desc, data, fname in files:
        if form in stdin_readers:
            rname, argv, outs = stdin_readers[form]
            add("hostile %s (pipe)" % form, "%s < pipe: %s" % (rname, desc), argv, {fname: data},
                outs)
            cases[-1].stdin_pipe = fname
    index_readers = [
        ("ann-query", lambda x: [T("ann-query"), "-q", "--index", x, "--nprobe", k, "-o",
                                 "f.annn", q], ["f.annn"]),
        ("ann-eval sweep", lambda x: [T("ann-eval"), "sweep", "-q", "--index", x, "--gt",
                                      P("gt.annn"), "--nprobe", "1," + k, "-o", "c.tsv", q],
         ["c.tsv"]),
        ("ann-train", lambda x: [T("ann-train"), "-q", "--index", x, "--gt", P("train-gt.annn"),
                                 "--epochs", "1", "--router", "kernel", "--points", "4"] + fx.train_assign
         + ["-o", "m.annm", P("train.bvecs")], ["m.annm"]),
        ("ann-dup", lambda x: [T("ann-dup"), "-q", "--model", P("kernel-f16.annm"), "--index", x,
                               "--gt", P("train-gt.annn")] + fx.dup_assign
         + ["-o", "a.anna", P("train.bvecs")], ["a.anna"]),
    ]
    for desc, data in index_hostile(fx):
        for rname, argv, outs in index_readers:
            add("hostile ANNI", "%s: %s" % (rname, desc), argv("{x_anni}"), {"x.anni": data}, outs)
    model_readers = [
        ("ann-query", lambda x: [T("ann-query"), "-q", "--index", P("index.anni"), "--model", x,
                                 "--nprobe", "1", "-o", "f.annn", q], ["f.annn"]),
        ("ann-eval sweep", lambda x: [T("ann-eval"), "sweep", "-q", "--index", P("index.anni"),
                                      "--model", x, "--gt", P("gt.annn"), "--nprobe", "1", "-o",
                                      "c.tsv", q], ["c.tsv"]),
        ("ann-train --init", lambda x: [T("ann-train"), "-q", "--init", x, "--index",
                                        P("index.anni"), "--gt", P("train-gt.annn"), "--epochs",
                                        "1"] + fx.train_assign + ["-o", "m.annm",
                                                                  P("train.bvecs")], ["m.annm"]),
        ("ann-dup", lambda x: [T("ann-dup"), "-q", "--model", x, "--index", P("index.anni"),
                               "--gt", P("train-gt.annn")] + fx.dup_assign
         + ["-o", "a.anna", P("train.bvecs")], ["a.anna"]),
    ]
    for mname, desc, data in model_hostile(fx):
        for rname, argv, outs in model_readers:
            add("hostile ANNM", "%s: %s %s" % (rname, mname, desc), argv("{x_annm}"),
                {"x.annm": data}, outs)
        rname, argv, outs = model_readers[0]
        add("hostile ANNM (zstd)", "%s: %s %s" % (rname, mname, desc), argv("{x_annm_zst}"),
            {"x.annm.zst": zstd(data)}, outs)
        add("hostile ANNM (pipe)", "%s < pipe: %s %s" % (rname, mname, desc),
            argv("/dev/stdin"), {"x.annm": data}, outs)
        cases[-1].stdin_pipe = "x.annm"
    # Options that size buffers.
    add("hostile options", "ann-query --batch 1000000000",
        [T("ann-query"), "-q", "--index", P("index.anni"), "--batch", "1000000000", "-o",
         "f.annn", q], {}, ["f.annn"])
    cases[-1].expect = "same"
    cases[-1].baseline = rss["query-batch"]
    cases[-1].rss_bound = relative_bound(rss["query-batch"]["rss"])
    add("hostile options", "ann-kmeans -k 2^31",
        [T("ann-kmeans"), "-q", "-k", str(1 << 31), "-o", "c.annv", P("base1k.fvecs")], {},
        ["c.annv"])
    return cases


# ---------------------------------------------------------------------------------------------
# Mismatched inputs, signals, pipes and full devices.

def mismatch_cases(fx):
    T, P, k = fx.tool, fx.path, str(fx.k)
    q = fx.queries
    cases = []

    def add(desc, argv, outs):
        cases.append(Case("mismatch", desc, argv, expect="mismatch", rss_bound=HOSTILE_RSS,
                          outputs=outs))

    other = P("kernel-s2.annm")
    add("ann-query --model for another clustering",
        [T("ann-query"), "-q", "--index", P("index.anni"), "--model", other, "-o", "f.annn", q],
        ["f.annn"])
    add("ann-eval sweep --model for another clustering",
        [T("ann-eval"), "sweep", "-q", "--index", P("index.anni"), "--model", other, "--gt",
         P("gt.annn"), "--nprobe", "1", "-o", "c.tsv", q], ["c.tsv"])
    add("ann-train --init for another clustering",
        [T("ann-train"), "-q", "--init", other, "--index", P("index.anni"), "--gt",
         P("train-gt.annn"), "--epochs", "1"] + fx.train_assign
        + ["-o", "m.annm", P("train.bvecs")], ["m.annm"])
    add("ann-dup --model for another clustering",
        [T("ann-dup"), "-q", "--model", other, "--index", P("index.anni"), "--gt",
         P("train-gt.annn")] + fx.dup_assign + ["-o", "a.anna", P("train.bvecs")], ["a.anna"])
    for assign, what in (("assign-half.anna", "from K=%d" % max(2, fx.k // 2)),
                         ("assign-half.ivecs", "(.ivecs) from K=%d" % max(2, fx.k // 2)),
                         ("assign-double.anna", "from K=%d" % (2 * fx.k)),
                         ("assign-s2.anna", "from another clustering with the same K"),
                         ("assign-other.anna", "made for another base"),
                         ("assign-other.ivecs", "(.ivecs) made for another base")):
        add("ann-pack with an assignment %s" % what,
            [T("ann-pack"), "-q", "--centroids", P("centroids.annv"), "--assignments", P(assign),
             "-o", "i.anni", fx.base], ["i.anni"])
    if fx.train_assign:
        add("ann-train with an assignment from another clustering",
            [T("ann-train"), "-q", "--index", P("index.anni"), "--gt", P("train-gt.annn"),
             "--epochs", "1", "--router", "kernel", "--points", "4", "--assignments", P("assign-s2.anna"), "-o",
             "m.annm", P("train.bvecs")], ["m.annm"])
    if fx.dup_assign:
        add("ann-dup with an assignment from another clustering",
            [T("ann-dup"), "-q", "--model", P("kernel-f16.annm"), "--index", P("index.anni"),
             "--gt", P("train-gt.annn"), "--assignments", P("assign-s2.anna"), "-o", "a.anna",
             P("train.bvecs")], ["a.anna"])
    return cases


def writer_probes(fx):
    T, P, k = fx.tool, fx.path, str(fx.k)
    return {
        "ann-kmeans": Probe("ann-kmeans", [T("ann-kmeans"), "-q", "-k", k, "--seed", "1",
                                           "--assignments", "a.anna", "-o", "c.annv", fx.base],
                            ["a.anna", "c.annv"]),
        "ann-pack": Probe("ann-pack", [T("ann-pack"), "-q", "--centroids", P("centroids.annv"),
                                       "--assignments", P("assign.anna"), "-o", "i.anni",
                                       fx.base], ["i.anni"]),
        "ann-groundtruth": Probe("ann-groundtruth", [T("ann-groundtruth"), "-q", "--base", fx.base,
                                                     "-k", "100", "-o", "g.annn",
                                                     P("bigann10k.bvecs")], ["g.annn"]),
        "ann-train": Probe("ann-train", [T("ann-train"), "-q", "--index", P("index.anni"),
                                         "--gt", P("train-gt.annn"), "--epochs", "1",
                                         "--router", "kernel", "--points", "8"] + fx.train_assign
                           + ["-o", "m.annm", P("train.bvecs")], ["m.annm"]),
        "ann-query": Probe("ann-query", [T("ann-query"), "-q", "--index", P("index.anni"),
                                         "--nprobe", "1", "-k", "100", "-o", "f.annn",
                                         P("bigann10k.bvecs")], ["f.annn"]),
    }


def signal_cases(fx, wp, quick):
    delays = [0.0, 0.01, 0.03, 0.06, 0.1, 0.2, 0.4] if quick else \
        [0.0, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15, 0.2,
         0.3, 0.5, 0.8]
    cases = []
    for name, probe in wp.items():
        for d in delays:
            cases.append(Case("SIGTERM during writes", "%s after %d ms" % (name, d * 1000),
                              probe.argv, expect="signal", baseline=probe.baseline,
                              rss_bound=probe.rss_bound, outputs=probe.outputs, sigterm_after=d))
    return cases


def stream_cases(fx, wp):
    T, P, k = fx.tool, fx.path, str(fx.k)
    cases = []
    to_stdout = {
        "ann-query": [T("ann-query"), "-q", "--index", P("index.anni"), "--nprobe", "1", "-k",
                      "100", P("bigann10k.bvecs")],
        "ann-groundtruth": [T("ann-groundtruth"), "-q", "--base", fx.base, "-k", "100",
                            P("bigann10k.bvecs")],
        "ann-pack": [T("ann-pack"), "-q", "--centroids", P("centroids.annv"), "--assignments",
                     P("assign.anna"), fx.base],
        "ann-kmeans": [T("ann-kmeans"), "-q", "-k", k, P("base1k.fvecs")],
        "ann-eval sweep": [T("ann-eval"), "sweep", "-q", "--index", P("index.anni"), "--gt",
                           P("gt.annn"), "--nprobe", "1", fx.queries],
    }
    for name, argv in to_stdout.items():
        if name in ("ann-query", "ann-groundtruth", "ann-pack"):
            cases.append(Case("closed pipe", "%s | head -c 4096" % name, argv, expect="pipe",
                              rss_bound=HOSTILE_RSS))
        cases.append(Case("full device", "%s > /dev/full" % name, argv, expect="full",
                          rss_bound=HOSTILE_RSS, stdout_to="/dev/full"))
    for name in ("ann-query", "ann-pack", "ann-kmeans"):
        argv = [a if a not in ("f.annn", "i.anni", "c.annv") else "/dev/full"
                for a in wp[name].argv]
        cases.append(Case("full device", "%s -o /dev/full" % name, argv, expect="full",
                          rss_bound=HOSTILE_RSS))
    return cases


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("BIN"), help="directory of the built tools")
    ap.add_argument("--data", default=os.environ.get("DATA", "examples/data"),
                    help="the bundled data (siftsmall, bigann10k)")
    ap.add_argument("--quick", action="store_true", help="a smaller sample")
    ap.add_argument("--seed", type=int, default=1, help="seed of every sample (default 1)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory and list failing cases with a command each")
    ap.add_argument("--only", metavar="REGEX",
                    help="run only the classes whose name matches (e.g. 'hostile|mismatch')")
    ap.add_argument("--jobs", type=int, default=2, help="tool runs at once (default 2)")
    ap.add_argument("-k", type=int, default=8, help="clusters of the index (default 8)")
    args = ap.parse_args()
    if not args.bin or not os.path.exists(os.path.join(args.bin, "ann-query")):
        sys.exit("faults: error: --bin must name the directory of the built tools")
    args.bin = os.path.abspath(args.bin)
    args.data = os.path.abspath(args.data)
    rng = random.Random(args.seed)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > ADDRESS_SPACE:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, hard))
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="ann-faults.")
    try:
        failed = run_all(args, work, rng)
    finally:
        if args.keep:
            print("faults: work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("faults: %.0f s (tools' CPU time %.0f s)" % (time.monotonic() - started,
                                                     ch.ru_utime + ch.ru_stime), file=sys.stderr)
    sys.exit(1 if failed else 0)


def model_probe_applies(model_name, probe_name):
    """A PQ router is trained anew for each index: ann-train --init refuses it by design."""
    return not (model_name.startswith("pq-") and probe_name == "ann-train --init")


def run_all(args, work, rng):
    runner = Runner(work, args.jobs, args.keep)
    try:
        return run_cases(args, work, rng, runner)
    finally:
        runner.close()


def run_cases(args, work, rng, runner):
    fx = Fixtures(args.bin, args.data, work, runner)
    fx.build(args.k)
    print("faults: format version %d; index %d bytes (K %d, directory %d bytes); models %s"
          % (fx.version, len(fx.index), fx.k, fx.layout["tstart"] - fx.layout["diroff"],
             ", ".join("%s %d bytes" % (n, len(d)) for n, d in fx.models.items())))
    idx_probes, mdl_probes = probes(fx)
    for p in idx_probes.values():
        p.baseline = record_baseline(runner, p, {"index.anni": fx.index}, p.name)
        p.rss_bound = relative_bound(p.baseline["rss"])
    model_base = {}
    for mname, mdata in fx.models.items():
        for p in mdl_probes.values():
            if not model_probe_applies(mname, p.name):
                continue
            b = record_baseline(runner, p, {"model.annm": mdata}, "%s on %s" % (p.name, mname))
            model_base[(mname, p.name)] = b
    wp = writer_probes(fx)
    for p in wp.values():
        p.baseline = record_baseline(runner, p, {}, p.name)
        p.rss_bound = relative_bound(p.baseline["rss"])
    batch = Probe("ann-query --batch", [fx.tool("ann-query"), "-q", "--index", fx.path("index.anni"),
                                        "-o", "f.annn", fx.queries], ["f.annn"])
    rss = {"query-batch": record_baseline(runner, batch, {}, "ann-query")}

    cases = []
    # Index damage through the main reader (every frame fetched), a sample through the others.
    damage = damage_index(fx, rng, args.quick)
    qp = idx_probes["ann-query"]
    for cls, desc, make in damage:
        cases.append(Case(cls, desc, qp.argv, files={"index.anni": make}, baseline=qp.baseline,
                          rss_bound=qp.rss_bound, outputs=qp.outputs))
    n_secondary = 12 if args.quick else 40
    for name in ("ann-eval sweep", "ann-train --init", "ann-dup"):
        p = idx_probes[name]
        for cls, desc, make in rng.sample(damage, n_secondary):
            cases.append(Case("index via %s" % name, "%s: %s" % (cls, desc), p.argv,
                              files={"index.anni": make}, baseline=p.baseline,
                              rss_bound=p.rss_bound, outputs=p.outputs,
                              stdout_compared=p.stdout_compared))
    for mname, mdata in fx.models.items():
        mdamage = damage_model(mname, mdata, rng, args.quick, light=(mname == "mlp-plain"))
        p = mdl_probes["ann-query --model"]
        b = model_base[(mname, p.name)]
        for cls, desc, make in mdamage:
            cases.append(Case(cls, desc, p.argv, files={"model.annm": make}, baseline=b,
                              rss_bound=relative_bound(b["rss"]), outputs=p.outputs))
        for name in ("ann-eval sweep --model", "ann-train --init", "ann-dup"):
            if not model_probe_applies(mname, name):
                continue
            p = mdl_probes[name]
            b = model_base[(mname, p.name)]
            for cls, desc, make in rng.sample(mdamage, 4 if args.quick else 12):
                cases.append(Case("model via %s" % name, "%s: %s" % (cls, desc), p.argv,
                                  files={"model.annm": make}, baseline=b,
                                  rss_bound=relative_bound(b["rss"]), outputs=p.outputs,
                                  stdout_compared=p.stdout_compared))
    hostile = hostile_cases(fx, rss)
    if args.quick:
        hostile = [c for c in hostile if c.cls in ("hostile ANNI", "hostile options")
                   or rng.random() < 0.3]
    cases += hostile
    cases += mismatch_cases(fx)
    cases += signal_cases(fx, wp, args.quick)
    cases += stream_cases(fx, wp)
    if args.only:
        cases = [c for c in cases if re.search(args.only, c.cls)]
    for i, c in enumerate(cases):
        c.id = i
    print("faults: %d cases, %d at a time" % (len(cases), args.jobs))
    sys.stdout.flush()
    done = [0, 0]
    lock = threading.Lock()

    def one(case):
        runner.execute(case)
        with lock:
            done[0] += 1
            done[1] += bool(case.failures)
            if done[0] % 1000 == 0:
                print("faults: %d of %d run, %d failed so far" % (done[0], len(cases), done[1]),
                      file=sys.stderr)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, cases))
    return report(cases, args.keep)


def report(cases, keep):
    classes = {}
    for c in cases:
        classes.setdefault(c.cls, []).append(c)
    width = max(len(k) for k in classes)
    print("%-*s %7s %7s %7s" % (width, "class", "cases", "passed", "failed"))
    for cls, cs in classes.items():
        bad = [c for c in cs if c.failures]
        print("%-*s %7d %7d %7d" % (width, cls, len(cs), len(cs) - len(bad), len(bad)))
    failed = [c for c in cases if c.failures]
    if failed:
        print("\nfailures (at most 4 per class and kind; --keep lists every one):")
        shown = {}
        for c in failed:
            kind = re.sub(r"[0-9]+", "N", c.failures[0])[:60]
            key = (c.cls, kind)
            shown[key] = shown.get(key, 0) + 1
            if keep or shown[key] <= 4:
                print("  [%s] %s: %s" % (c.cls, c.desc, "; ".join(c.failures)))
                if keep and getattr(c, "reproduce", None):
                    print("      reproduce: %s" % c.reproduce)
        for key, n in shown.items():
            if n > 4 and not keep:
                print("  [%s] ... %d more like: %s" % (key[0], n - 4, key[1]))
    print("faults: %d passed, %d failed" % (len(cases) - len(failed), len(failed)))
    return len(failed)


if __name__ == "__main__":
    main()
