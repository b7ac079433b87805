"""Fixtures: the index, models and small inputs built at run time from the bundled data."""

import os
import re
import shutil
import struct
import subprocess
import sys

from common import read_file
from formats import check_index, check_model, u32


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
        # Its rotated codes, where it has them: a budget that leaves the rotation room.
        if re.search(r"^\s+--rotation\b", help_train, re.M):
            kinds += [("pq-rotated", ["--router", "pq", "--memory", "1M", "--rotation", "opq", "--epochs", "2"])]
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

