#!/usr/bin/env python3
"""memory_plot.py MEMORY.TSV OUT.SVG: vectors fetched at the target recall against bytes of
router memory per base vector (log-log), one line per router and training set, from the
table memory.sh writes; MEMORY_LEARN_NAME and MEMORY_TRAIN_NAME name the training sets."""
import csv, math, os, sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
series = {}
for r in rows:
    series.setdefault((r["router"], r["train"]), []).append((float(r["budget_bytes_per_vector"]), float(r["vectors"])))
W, H, L, R, T, B = 720, 460, 70, 250, 30, 50
xs = [x for s in series.values() for x, _ in s]
ys = [y for s in series.values() for _, y in s if y > 0]
x0, x1 = math.log2(min(xs)), math.log2(max(xs))
y0, y1 = math.log10(min(ys)) - 0.05, math.log10(max(ys)) + 0.05
def px(x): return L + (math.log2(x) - x0) / max(x1 - x0, 1e-9) * (W - L - R)
def py(y): return H - B - (math.log10(y) - y0) / max(y1 - y0, 1e-9) * (H - T - B)
colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22"]
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="18">vectors fetched per query at the target recall@1 against router memory</text>']
for x in sorted(set(xs)):
    out.append(f'<line x1="{px(x):.1f}" y1="{T}" x2="{px(x):.1f}" y2="{H - B}" stroke="#eee"/>')
    out.append(f'<text x="{px(x):.1f}" y="{H - B + 16}" text-anchor="middle">{x:g}</text>')
for e in range(int(math.floor(y0)), int(math.ceil(y1)) + 1):
    for m in (1, 2, 5):
        y = m * 10 ** e
        if y0 <= math.log10(y) <= y1:
            out.append(f'<line x1="{L}" y1="{py(y):.1f}" x2="{W - R}" y2="{py(y):.1f}" stroke="#eee"/>')
            out.append(f'<text x="{L - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:,}</text>')
out.append(f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">router memory, bytes per base vector</text>')
for i, ((router, train), pts) in enumerate(sorted(series.items())):
    c = colours[i % len(colours)]
    dash = ' stroke-dasharray="5,3"' if train == "train" else ""
    pts = sorted(p for p in pts if p[1] > 0)
    path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
    out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"{dash}/>')
    for x, y in pts:
        out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{c}"/>')
    ly = T + 16 * i + 10
    out.append(f'<line x1="{W - R + 12}" y1="{ly}" x2="{W - R + 36}" y2="{ly}" stroke="{c}" stroke-width="2"{dash}/>')
    names = {"pq": "PQ, learned", "pqt": "PQ, temperature", "mlp": "MLP", "kernel": "kernel", "centroid": "centroid routing"}
    trained = {"learn": ", " + os.environ.get("MEMORY_LEARN_NAME", "learn alone"),
               "train": ", " + os.environ.get("MEMORY_TRAIN_NAME", "learn + log")}.get(train, "")
    out.append(f'<text x="{W - R + 42}" y="{ly + 4}">{names.get(router, router)}{trained}</text>')
out.append("</svg>")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
