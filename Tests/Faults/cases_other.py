"""Cases: mismatched inputs, SIGTERM during writes, closed pipes and full devices."""

import common
from judge import Case


# ---------------------------------------------------------------------------------------------
# Mismatched inputs, signals, pipes and full devices.

def mismatch_cases(fx):
    T, P, k = fx.tool, fx.path, str(fx.k)
    q = fx.queries
    cases = []

    def add(desc, argv, outs):
        cases.append(Case("mismatch", desc, argv, expect="mismatch", rss_bound=common.HOSTILE_RSS,
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
                              rss_bound=common.HOSTILE_RSS))
        cases.append(Case("full device", "%s > /dev/full" % name, argv, expect="full",
                          rss_bound=common.HOSTILE_RSS, stdout_to="/dev/full"))
    for name in ("ann-query", "ann-pack", "ann-kmeans"):
        argv = [a if a not in ("f.annn", "i.anni", "c.annv") else "/dev/full"
                for a in wp[name].argv]
        cases.append(Case("full device", "%s -o /dev/full" % name, argv, expect="full",
                          rss_bound=common.HOSTILE_RSS))
    return cases

