#!/usr/bin/env python3
"""Seeded synthetic uint8 vectors for measuring cost against size (not recall).

  scale_gen.py SOURCE.bvecs N OUT.u8bin [--seed S] [--sigma F]

Vector i is SIFT-DEB base vector i mod 710,181 (SOURCE) plus independent Gaussian jitter
(standard deviation --sigma, default 6), rounded and clipped to 0..255: a set with SIFT's
distribution and no exact duplicates, made block by block in bounded memory. Its neighbours
are not SIFT's, so it measures time and memory, not recall. Written as .u8bin (n, d, then the
vectors), atomically.
"""
import argparse
import os
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sigma", type=float, default=6.0)
    a = ap.parse_args()
    raw = np.fromfile(a.source, dtype=np.uint8)
    d = int(raw[:4].view(np.int32)[0])
    src = raw.reshape(-1, 4 + d)[:, 4:]
    rng = np.random.default_rng(a.seed)
    tmp = a.out + ".tmp"
    block = 1 << 18
    with open(tmp, "wb") as f:
        f.write(np.array([a.n, d], dtype=np.uint32).tobytes())
        for lo in range(0, a.n, block):
            hi = min(a.n, lo + block)
            rows = src[np.arange(lo, hi) % len(src)].astype(np.float32)
            rows += rng.normal(0.0, a.sigma, size=rows.shape).astype(np.float32)
            f.write(np.clip(np.rint(rows), 0, 255).astype(np.uint8).tobytes())
    os.replace(tmp, a.out)
    print(f"scale_gen: {a.n} x {d} uint8 in {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
