"""The readers and writers ("probes") run on undamaged inputs for a baseline, and the bounds
derived from it."""

import sys

import common
from judge import Case


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
    return 2 * rss + 64 * common.MB



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



def model_probe_applies(model_name, probe_name):
    """A PQ router is trained anew for each index: ann-train --init refuses it by design."""
    return not (model_name.startswith("pq-") and probe_name == "ann-train --init")

