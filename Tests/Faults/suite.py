"""The whole run: fixtures, baselines, every case in a fixed order, and the report."""

import concurrent.futures
import re
import sys
import threading

from cases_hostile import hostile_cases
from cases_other import mismatch_cases, signal_cases, stream_cases
from damage import damage_index, damage_model
from fixtures import Fixtures
from judge import Case
from probes import (Probe, model_probe_applies, probes, record_baseline, relative_bound,
                    writer_probes)
from runner import Runner


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

