#!/usr/bin/env python3
"""The examples pipeline's build, ground truth and batch query as Apache Spark jobs.

  driver.py --bin DIR --base FILE --queries FILE --out DIR [-k K] [--metric M] [--nprobe N]
            [--shards S] [--master URL]

Each step is a Spark job whose tasks run the ann-tools command-line tools on files in a
directory every executor sees (a shared file system): the centroids in one task; then in S
tasks, one slice of the base each (`--shard i/S`), the assignment and the pack of the slice,
merged on the driver into the index of the whole base (`ann-pack --merge`); then the exact
ground truth (100 neighbours) and the query run each in S tasks, one slice each, joined on the
driver (`ann-groundtruth --merge`, `ann-query --merge`, the stats tables concatenated). Every task
writes its output atomically and does the same work when run again, so Spark may retry it. The
outputs are the bytes `make -C examples` writes for the same settings: index.anni, gt.annn,
results.annn, stats.tsv.

The base and the queries are read by position in the sliced steps, so a .zst input is first
decompressed into OUT (one task each).
"""

import argparse
import os
import subprocess
import sys
import time

from pyspark import SparkConf, SparkContext


def run_tool(argv):
    """Runs one command line in a task; a failure fails the task with the tool's own message."""
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stderr


def job(sc, name, commands):
    """One Spark job: a task per command line, all in parallel."""
    started = time.monotonic()
    sc.setJobDescription(name)
    sc.parallelize(commands, len(commands)).map(run_tool).collect()
    print(f"spark: {name}: {len(commands)} task{'s' if len(commands) > 1 else ''}, {time.monotonic() - started:.1f} s", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="directory of the ann-tools binaries")
    ap.add_argument("--base", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--out", required=True, help="shared output directory")
    ap.add_argument("-k", "--clusters", type=int, default=64)
    ap.add_argument("--metric", default="l2")
    ap.add_argument("--nprobe", type=int, default=4)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--master", default="local-cluster[2,1,1024]")
    a = ap.parse_args()
    tool = lambda name: os.path.join(os.path.abspath(a.bin), name)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    o = lambda name: os.path.join(out, name)

    conf = (SparkConf().setMaster(a.master).setAppName("ann-tools")
            .set("spark.ui.enabled", "false").set("spark.task.maxFailures", "4"))
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    try:
        # Inputs the slices can seek in.
        inputs = {}
        unpack = []
        for role, path in (("base", a.base), ("queries", a.queries)):
            path = os.path.abspath(path)
            if path.endswith(".zst"):
                plain = o(f"{role}{os.path.splitext(path[:-4])[1]}")
                unpack.append(["zstd", "-dqf", path, "-o", plain])
                path = plain
            inputs[role] = path
        if unpack:
            job(sc, "decompress the inputs", unpack)
        base, queries, s = inputs["base"], inputs["queries"], a.shards

        job(sc, "k-means", [[tool("ann-kmeans"), "-q", "-k", str(a.clusters), "--metric", a.metric,
                             "-o", o("centroids.fvecs"), base]])
        job(sc, f"assignment and pack in {s} slices of the base",
            [["sh", "-c", '"$0" -q --centroids "$2" --shard "$4" --assignments "$5" "$3" && '
              '"$1" -q --centroids "$2" --assignments "$5" --shard "$4" -o "$6" "$3"',
              tool("ann-kmeans"), tool("ann-pack"), o("centroids.fvecs"), base, f"{i}/{s}", o(f"assign.{i}.anna"), o(f"index.{i}.anni")]
             for i in range(s)])
        run_tool([tool("ann-pack"), "-q", "--merge", "--base", base, "-o", o("index.anni")] + [o(f"index.{i}.anni") for i in range(s)])
        job(sc, f"ground truth in {s} slices of the base",
            [[tool("ann-groundtruth"), "-q", "--base", base, "--shard", f"{i}/{s}", "-k", "100", "--metric", a.metric,
              "-o", o(f"gt.{i}"), queries] for i in range(s)])
        run_tool([tool("ann-groundtruth"), "-q", "--merge", "-o", o("gt.annn")] + [o(f"gt.{i}") for i in range(s)])
        job(sc, f"query run in {s} slices of the queries",
            [[tool("ann-query"), "-q", "--index", o("index.anni"), "-k", "10", "--nprobe", str(a.nprobe), "--shard", f"{i}/{s}",
              "--stats", o(f"stats.{i}"), "-o", o(f"results.{i}"), queries] for i in range(s)])
        run_tool([tool("ann-query"), "-q", "--merge", "-o", o("results.annn")] + [o(f"results.{i}") for i in range(s)])
        with open(o("stats.tsv.tmp"), "wb") as f:
            for i in range(s):
                with open(o(f"stats.{i}"), "rb") as part:
                    f.write(part.read())
        os.replace(o("stats.tsv.tmp"), o("stats.tsv"))
        for i in range(s):
            for name in (f"gt.{i}", f"results.{i}", f"stats.{i}", f"assign.{i}.anna", f"index.{i}.anni"):
                os.remove(o(name))
    finally:
        sc.stop()
    print(f"spark: index.anni, gt.annn, results.annn and stats.tsv in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
