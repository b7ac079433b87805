"""Cases: every hostile file fed to every tool that reads that kind of input, plain, compressed
and through a pipe, and options that size buffers."""

import common
from fixtures import zstd
from hostile import (STREAM_KINDS, foreign_hostile, index_hostile, model_hostile,
                     native_hostile)
from judge import Case
from probes import relative_bound


def hostile_cases(fx, rss):
    """Every hostile file fed to every tool that reads that kind of input."""
    T, P, k = fx.tool, fx.path, str(fx.k)
    q = fx.queries
    bound = common.HOSTILE_RSS
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

