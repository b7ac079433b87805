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
import os
import random
import resource
import shutil
import sys
import tempfile
import time

import common
from suite import run_all


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
    if hard == resource.RLIM_INFINITY or hard > common.ADDRESS_SPACE:
        resource.setrlimit(resource.RLIMIT_AS, (common.ADDRESS_SPACE, hard))
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


if __name__ == "__main__":
    main()
