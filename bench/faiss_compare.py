"""FAISS figures on the same machine and data, for comparison only (never a dependency).

Usage: faiss_compare.py DATA_DIR CENTROIDS.fvecs NPROBE
Prints TSV lines: name, seconds or queries/s, recall@1.
"""
import sys, time
import numpy as np
import faiss


def xvecs(path, dtype):
    raw = np.fromfile(path, dtype=np.uint8)
    d = int(np.frombuffer(raw[:4].tobytes(), dtype=np.int32)[0])
    size = np.dtype(dtype).itemsize
    rec = raw.reshape(-1, 4 + d * size)[:, 4:]
    return np.ascontiguousarray(rec).view(dtype).reshape(-1, d).astype(np.float32)


data, cents_path, nprobe = sys.argv[1], sys.argv[2], int(sys.argv[3])
faiss.omp_set_num_threads(2)
base = xvecs(f"{data}/siftdeb_base.bvecs", np.uint8)
queries = xvecs(f"{data}/siftdeb_query.bvecs", np.uint8)
gt = np.fromfile(f"{data}/siftdeb_query_groundtruth.ivecs", dtype=np.int32).reshape(len(queries), -1)[:, 1:]
gtd = np.fromfile(f"{data}/siftdeb_query_groundtruth_dist.fvecs", dtype=np.float32).reshape(len(queries), -1)[:, 1:]
cents = xvecs(cents_path, np.float32)
d, k = base.shape[1], cents.shape[0]

if "--no-build" not in sys.argv:
  t = time.time()
  km = faiss.Kmeans(d, 1024, niter=20, seed=1, max_points_per_centroid=10**9)
  km.train(base)
  print(f"faiss kmeans K=1024 20 iters\t{time.time() - t:.1f} s")
  t = time.time()
  flat = faiss.IndexFlatL2(d)
  flat.add(base)
  flat.search(queries, 100)
  print(f"faiss exact k=100\t{time.time() - t:.1f} s")

quantizer = faiss.IndexFlatL2(d)
quantizer.add(cents)
ivf = faiss.IndexIVFFlat(quantizer, d, k)
ivf.is_trained = True
ivf.add(base)
# The same curve as ann-eval sweep: recall@1 (ties count) and mean vectors scanned per query.
sizes = np.array([ivf.invlists.list_size(i) for i in range(k)])
_, lists = quantizer.search(queries, 64)
for p in (1, 2, 4, 6, 7, 8, 9, 10, 12, 16):
    ivf.nprobe = p
    D, I = ivf.search(queries, 10)
    hit = (I[:, 0] == gt[:, 0]) | (D[:, 0] <= gtd[:, 0])
    print(f"faiss IVFFlat curve\tnprobe={p}\trecall@1 {hit.mean():.4f}\tvectors {sizes[lists[:, :p]].sum(1).mean():.1f}")
ivf.nprobe = nprobe
ivf.search(queries[:500], 10)
best = 0
for _ in range(3):
    t = time.time()
    D, I = ivf.search(queries, 10)
    best = max(best, len(queries) / (time.time() - t))
hit = (I[:, 0] == gt[:, 0]) | (D[:, 0] <= gtd[:, 0])
print(f"faiss IndexIVFFlat nprobe={nprobe} in memory\t{best:.0f} q/s\trecall@1 {hit.mean():.4f}")
