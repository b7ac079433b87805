"""A case (one run of a built tool on possibly damaged inputs) and the verdict on what it did."""

import os
import re
import signal

import common


SYSEXITS = {64, 65, 66, 69, 73, 74, 77}
ERROR_LINE = re.compile(r"^ann-[a-z]+: error: .+")


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


def judge(case, r):
    f = case.failures
    status = r["status"]
    if r["timed_out"]:
        f.append("timeout: no exit within %ds" % common.TIMEOUT)
        return
    if r["rss"] > case.rss_bound:
        f.append("peak RSS %d MB above the bound %d MB"
                 % (r["rss"] // common.MB, case.rss_bound // common.MB))
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

