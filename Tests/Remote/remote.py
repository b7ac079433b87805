#!/usr/bin/env python3
"""Indexes in object storage, against real servers on 127.0.0.1: SeaweedFS (S3, SigV4 enforced)
and nginx (plain HTTP range reads), started and stopped here (servers.py), with the AWS CLI as
the reference client.

  remote.py --bin DIR --data DIR [--keep]

Each case runs the built tools and checks what a user would: results from s3:// and http://
byte-identical to the local file, an upload that readers see whole or not at all, and every
failure (wrong secret, missing object, a server that stops, an object replaced mid-run, damaged
bytes) a one-line error with its sysexits status and no output file. Ends with "N passed, N failed".
"""

import argparse, os, re, shutil, subprocess, sys, tempfile, threading, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servers  # noqa: E402

ERROR_LINE = re.compile(r"^ann-[a-z]+: error: .+$")


class Suite:
    def __init__(self, bin_dir, work, env):
        self.bin, self.work, self.env = Path(bin_dir).resolve(), Path(work), env
        self.passed = self.failed = 0

    def tool(self, name, *args, env=None, stdin=None, timeout=300):
        e = dict(os.environ)
        e.pop("AWS_SESSION_TOKEN", None)
        e.update({k: str(v) for k, v in self.env.items()})
        e.update(env or {})
        return subprocess.run([str(self.bin / name), *map(str, args)], cwd=self.work, env=e, stdin=stdin,
                              capture_output=True, timeout=timeout)

    def aws(self, *args):
        e = dict(os.environ, **{k: str(v) for k, v in self.env.items()})
        e.pop("AWS_SESSION_TOKEN", None)
        r = subprocess.run(["aws", "--endpoint-url", self.env["AWS_ENDPOINT_URL"], *map(str, args)],
                           cwd=self.work, env=e, capture_output=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"aws {' '.join(map(str, args))}: {r.stderr.decode()}")

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok    {name}")
        else:
            self.failed += 1
            print(f"FAIL  {name}: {detail}")

    def fails(self, name, r, code, output, words):
        """A run that must exit `code` with one error line holding `words`, leaving no `output`."""
        err = r.stderr.decode(errors="replace").strip().splitlines()
        self.check(name, r.returncode == code and len(err) == 1 and ERROR_LINE.match(err[0]) and words in err[0]
                   and not (self.work / output).exists(),
                   f"exit {r.returncode} (want {code}), stderr {err!r}, output left: {(self.work / output).exists()}")

    def same(self, name, r, produced, reference):
        a, b = self.work / produced, self.work / reference
        self.check(name, r.returncode == 0 and a.exists() and a.read_bytes() == b.read_bytes(),
                   f"exit {r.returncode}: {r.stderr.decode(errors='replace')[-400:]}")


def stats_without_time(path):
    """The --stats table without the micros column (timing differs run to run)."""
    rows = [line.split("\t") for line in Path(path).read_text().splitlines()]
    drop = rows[0].index("micros")
    return [r[:drop] + r[drop + 1:] for r in rows]


def curve_without_time(path):
    """A sweep's curve without its label (the index's name) and its qps column."""
    rows = [line.split("\t") for line in Path(path).read_text().splitlines() if not line.startswith("#")]
    drop = rows[0].index("qps")
    return [r[:drop] + r[drop + 1:] for r in rows]


def prepare(s, data):
    for name in ("siftsmall_base.fvecs", "siftsmall_query.fvecs", "siftsmall_groundtruth.ivecs"):
        subprocess.run(["zstd", "-dqf", str(Path(data) / f"{name}.zst"), "-o", str(s.work / name)], check=True)
    run = lambda *a: subprocess.run([str(s.bin / a[0]), *a[1:]], cwd=s.work, check=True, capture_output=True)
    run("ann-kmeans", "-k", "64", "siftsmall_base.fvecs", "-o", "c.annv", "--assignments", "a.anna")
    run("ann-pack", "--centroids", "c.annv", "--assignments", "a.anna", "siftsmall_base.fvecs", "-o", "idx.anni")
    run("ann-pack", "--centroids", "c.annv", "--assignments", "a.anna", "--level", "9", "siftsmall_base.fvecs", "-o", "other.anni")
    run("ann-query", "--index", "idx.anni", "siftsmall_query.fvecs", "-o", "local.annn", "--stats", "local.tsv")
    run("ann-query", "--index", "idx.anni", "--batch", "1", "siftsmall_query.fvecs", "-o", "local1.annn")
    run("ann-eval", "sweep", "--index", "idx.anni", "--gt", "siftsmall_groundtruth.ivecs", "siftsmall_query.fvecs", "-o", "local-sweep.tsv")
    run("ann-train", "--index", "idx.anni", "--gt", "siftsmall_groundtruth.ivecs", "--epochs", "1", "siftsmall_query.fvecs", "-o", "local.annm")
    run("ann-dup", "--index", "idx.anni", "--model", "local.annm", "--gt", "siftsmall_groundtruth.ivecs", "siftsmall_query.fvecs",
        "-o", "local.anna", "--next-index", "local-next.anni")
    data = bytearray((s.work / "idx.anni").read_bytes())
    (s.work / "truncated.anni").write_bytes(data[: len(data) // 2])
    data[len(data) // 3] ^= 0x10   # inside a cluster frame: its checksum must catch it
    (s.work / "flipped.anni").write_bytes(data)


def run_cases(s):
    S3, HTTP, Q, GT = "s3://ann-test/idx.anni", f"{s.env['HTTP_BASE']}/idx.anni", "siftsmall_query.fvecs", "siftsmall_groundtruth.ivecs"
    # Writing: a multipart upload that the reference client reads back byte for byte.
    r = s.tool("ann-pack", "--centroids", "c.annv", "--assignments", "a.anna", "siftsmall_base.fvecs", "-o", S3)
    s.aws("s3", "cp", S3, "downloaded.anni", "--only-show-errors")
    s.same("ann-pack -o s3:// uploads the index byte-identical to the local pack", r, "downloaded.anni", "idx.anni")
    shutil.copy(s.work / "idx.anni", Path(s.env["WWW"]) / "idx.anni")
    for name in ("truncated", "flipped"):
        s.aws("s3", "cp", f"{name}.anni", f"s3://ann-test/{name}.anni", "--only-show-errors")

    # Reading: the same answers from every backend, in batches and one query at a time.
    r = s.tool("ann-query", "--index", S3, Q, "-o", "s3.annn", "--stats", "s3.tsv")
    s.same("ann-query from s3:// equals the local file", r, "s3.annn", "local.annn")
    s.check("per-query stats from s3:// equal the local ones but for time and requests",
            [row[:4] for row in stats_without_time(s.work / "s3.tsv")] == [row[:4] for row in stats_without_time(s.work / "local.tsv")])
    s.same("ann-query --batch 1 from http:// equals the local file", s.tool("ann-query", "--index", HTTP, "--batch", "1", Q, "-o", "http1.annn"),
           "http1.annn", "local1.annn")
    r = s.tool("ann-query", "--index", S3, "--batch", "1", Q, "-o", "s31.annn", "-v")
    s.same("ann-query --batch 1 from s3:// equals the local file", r, "s31.annn", "local1.annn")
    m = re.search(r"storage: (\d+) requests in (\d+) waves", r.stderr.decode())
    s.check("one query at a time from s3:// takes exactly one wave of requests per query",
            m is not None and int(m.group(2)) == 100, r.stderr.decode()[-600:])
    r = s.tool("ann-query", "--index", S3, Q)
    s.check("ann-query from s3:// to a pipe streams the same bytes", r.returncode == 0 and r.stdout == (s.work / "local.annn").read_bytes())
    r = s.tool("ann-eval", "sweep", "--index", S3, "--gt", GT, Q, "-o", "s3-sweep.tsv")
    s.check("ann-eval sweep from s3:// gives the local sweep's curve",
            r.returncode == 0 and curve_without_time(s.work / "s3-sweep.tsv") == curve_without_time(s.work / "local-sweep.tsv"))
    s.same("ann-train from http:// trains the same model as from the local file",
           s.tool("ann-train", "--index", HTTP, "--gt", GT, "--epochs", "1", Q, "-o", "http.annm"), "http.annm", "local.annm")
    r = s.tool("ann-dup", "--index", S3, "--model", "local.annm", "--gt", GT, Q, "-o", "s3.anna", "--next-index", "s3://ann-test/next.anni")
    s.aws("s3", "cp", "s3://ann-test/next.anni", "next-downloaded.anni", "--only-show-errors")
    s.same("ann-dup from s3:// writes the next index to s3:// as from the local file", r, "next-downloaded.anni", "local-next.anni")
    r = subprocess.run(f"'{s.bin}/ann-query' --index {S3} --batch 10 {Q} | head -c 100 > head.out", shell=True, cwd=s.work,
                       env=dict(os.environ, **{k: str(v) for k, v in s.env.items()}), capture_output=True, timeout=60)
    s.check("ann-query from s3:// into `| head` ends early and quietly", r.returncode == 0 and not r.stderr
            and (s.work / "head.out").read_bytes() == (s.work / "local.annn").read_bytes()[:100], r.stderr.decode()[-300:])

    # Failures: one line, its status, no output.
    s.fails("a wrong secret is refused (77) without retrying", s.tool("ann-query", "--index", S3, Q, "-o", "x.annn",
            env={"AWS_SECRET_ACCESS_KEY": "wrong"}), 77, "x.annn", "SignatureDoesNotMatch")
    r = s.tool("ann-pack", "--centroids", "c.annv", "--assignments", "a.anna", "siftsmall_base.fvecs", "-o", "s3://ann-test/denied.anni",
               env={"AWS_SECRET_ACCESS_KEY": "wrong"})
    s.fails("an upload with a wrong secret is refused (77)", r, 77, "denied.anni", "SignatureDoesNotMatch")
    try:
        s.aws("s3api", "head-object", "--bucket", "ann-test", "--key", "denied.anni")
        s.check("a refused upload leaves no object", False, "s3://ann-test/denied.anni exists")
    except RuntimeError:
        s.check("a refused upload leaves no object", True)
    proxy = servers.Proxy(s.env["AWS_ENDPOINT_URL"].removeprefix("http://"), drop_first=1000)  # every connection reset
    r = s.tool("ann-pack", "--centroids", "c.annv", "--assignments", "a.anna", "siftsmall_base.fvecs", "-o", "s3://ann-test/cut.anni",
               env={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}", "AWS_MAX_ATTEMPTS": "2", "ANN_STORAGE_TIMEOUT": "5"})
    proxy.close()
    try:
        s.aws("s3api", "head-object", "--bucket", "ann-test", "--key", "cut.anni")
        ok = False
    except RuntimeError:
        ok = True
    s.check("an upload whose store goes away fails (69) and leaves no object", r.returncode == 69 and ok, r.stderr.decode()[-300:])
    s.fails("no credentials for a private bucket is refused (77)", s.tool("ann-query", "--index", S3, Q, "-o", "x.annn",
            env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}), 77, "x.annn", "access denied")
    s.fails("a missing S3 object is 66", s.tool("ann-query", "--index", "s3://ann-test/none.anni", Q, "-o", "x.annn"), 66, "x.annn", "NoSuchKey")
    s.fails("a missing bucket is 66", s.tool("ann-query", "--index", "s3://no-bucket/idx.anni", Q, "-o", "x.annn"), 66, "x.annn", "NoSuchBucket")
    s.fails("a missing HTTP object is 66", s.tool("ann-query", "--index", f"{s.env['HTTP_BASE']}/none.anni", Q, "-o", "x.annn"), 66, "x.annn", "404")
    s.fails("a truncated object is 65", s.tool("ann-query", "--index", "s3://ann-test/truncated.anni", Q, "-o", "x.annn"), 65, "x.annn", "truncated")
    s.fails("a corrupted frame is 65", s.tool("ann-query", "--index", "s3://ann-test/flipped.anni", "--nprobe", "64", Q, "-o", "x.annn"),
            65, "x.annn", "checksum")
    s.fails("an unknown scheme is a usage error", s.tool("ann-query", "--index", "ftp://x/y", Q, "-o", "x.annn"), 64, "x.annn", "scheme")

    endpoint = s.env["AWS_ENDPOINT_URL"].removeprefix("http://")
    # A slow server and dropped connections: the same answers, after retries.
    proxy = servers.Proxy(endpoint, delay=0.01, drop_first=2)
    r = s.tool("ann-query", "--index", S3, "--batch", "10", Q, "-o", "slow.annn", env={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}"})
    proxy.close()
    s.same("a slow server that resets connections still gives identical results", r, "slow.annn", "local.annn")

    # The server goes away mid-run: retries, then 69, no output.
    proxy = servers.Proxy(endpoint, delay=0.02)
    threading.Timer(1.0, proxy.close).start()
    r = s.tool("ann-query", "--index", S3, "--batch", "1", Q, "-o", "gone.annn",
               env={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}", "AWS_MAX_ATTEMPTS": "3", "ANN_STORAGE_TIMEOUT": "10"})
    s.fails("a server stopped mid-run is 69 after retries", r, 69, "gone.annn", "tries")

    # The object is replaced mid-run: an error, never answers mixed from two versions.
    s.aws("s3", "cp", "idx.anni", "s3://ann-test/moving.anni", "--only-show-errors")
    proxy = servers.Proxy(endpoint, delay=0.02)
    threading.Timer(1.0, lambda: s.aws("s3", "cp", "other.anni", "s3://ann-test/moving.anni", "--only-show-errors")).start()
    r = s.tool("ann-query", "--index", "s3://ann-test/moving.anni", "--batch", "1", Q, "-o", "moved.annn",
               env={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}"})
    proxy.close()
    s.fails("an object replaced mid-run is an error (74), never mixed answers", r, 74, "moved.annn", "changed while it was read")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    if not shutil.which("aws") or not shutil.which("nginx"):
        sys.exit("remote.py: needs the Debian packages awscli and nginx-light (make deps installs them)")
    work = Path(tempfile.mkdtemp(prefix="ann-remote-"))
    started = time.monotonic()
    try:
        env = servers.start(work / "servers", ttl=900)
        s = Suite(a.bin, work, {k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL")}
                  | {"HTTP_BASE": env["HTTP_BASE"], "WWW": env["WWW"]})
        prepare(s, a.data)
        run_cases(s)
    finally:
        servers.stop(work / "servers")
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"remote storage: {time.monotonic() - started:.0f} s")
    print(f"{s.passed} passed, {s.failed} failed")
    sys.exit(1 if s.failed else 0)


if __name__ == "__main__":
    main()
