"""Partner API benchmark: sustained POST /api/v1/referrals/ on gunicorn + PostgreSQL.

    DATABASE_URL=postgres://… python -m cases.api.bench --duration 30

(``make bench-api``). It creates a throw-away database beside DATABASE_URL's
(``<name>_bench_api``), starts gunicorn on 127.0.0.1, and drives it from a separate
process with wrk, each request a new body with its own Idempotency-Key. The same run is
made against a bare Django view that inserts one row on the same stack: the framework's
floor. It prints requests/s and p50/p99 latency for both, the ratio, and checks that every
201 left exactly one referral in the database.

On a shared machine throughput moves with the neighbours' load, so each run also prints
the load average and, where /proc shows them (Linux, PostgreSQL on this machine), the CPU
time gunicorn and the bench database's backends spent per request: a figure other
people's work barely moves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]

LUA = r"""
-- One new request body and Idempotency-Key per request; a JSON summary at the end.
local threads = {}
local counter = 0
local nonce = tostring(os.time())

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  auth = args[1]
  template = args[2]
  local file = io.open(template, "r")
  body = file:read("*a")
  file:close()
end

function request()
  counter = counter + 1
  local key = nonce .. "-" .. tid .. "-" .. counter
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Api-Key " .. auth,
    ["Idempotency-Key"] = key,
  }
  return wrk.format("POST", nil, headers, (body:gsub("{{key}}", key)))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'SUMMARY {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Result:
    target: str
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per request, by process group
    elsewhere: float | None = None  # share of the machine's CPU spent outside this bench
    load: str = ""

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def _require_tools(database_url: str) -> None:
    if not urlparse(database_url).scheme.startswith("postgres"):
        raise SystemExit(
            "The API benchmark needs PostgreSQL: set DATABASE_URL, for example\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/earlyhelp make bench-api"
        )
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench-api does this)")


def _bench_database(database_url: str) -> str:
    """Drop and create ``<name>_bench_api`` beside the configured database; return its URL."""
    import psycopg2  # type: ignore[import-untyped]

    parsed = urlparse(database_url)
    name = f"{parsed.path.lstrip('/') or 'earlyhelp'}_bench_api"
    admin = psycopg2.connect(urlunparse(parsed._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return urlunparse(parsed._replace(path=f"/{name}"))


def _environment(database_url: str, broker_url: str) -> dict[str, str]:
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "earlyhelp.settings.base",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "API_BENCH_FLOOR": "true",
        "API_PARTNER_RATE": "100000000/min",
        "LOG_LEVEL": "WARNING",
    }


def _prepare(env: dict[str, str]) -> str:
    """Migrate the bench database and create the bench partner's key; return the key."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    script = (
        "import django; django.setup()\n"
        "from cases import services\n"
        "from earlyhelp.models import Organisation\n"
        "org = Organisation.objects.create(code='BENCH', name='Bench school', kind='school',"
        " api_access_enabled=True)\n"
        "print(services.partner_api_key_create(organisation=org, name='bench')[1])\n"
    )
    result = subprocess.run(  # noqa: S603  (our own fixed commands)
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip().splitlines()[-1]


def _body_template() -> str:
    from cases.api.examples import REQUEST_BODY

    body: dict[str, Any] = json.loads(json.dumps(REQUEST_BODY))
    body["partner_reference"] = "{{key}}"
    body["consent"]["given_on"] = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    return json.dumps(body)


def _configured(name: str) -> Any:
    """A setting of gunicorn.conf.py, as gunicorn will read it."""
    settings: dict[str, Any] = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), settings)  # noqa: S102  (our own file)
    return settings[name]


def _wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start on port {port}")


def _gunicorn(
    env: dict[str, str],
    port: int,
    workers: int | None,
    threads: int | None,
    worker_class: str | None = None,
) -> subprocess.Popen:
    # As the Dockerfile runs it (gunicorn.conf.py: a gthread process per core, keep-alive, no
    # access log), on a local port; --workers and --server-threads override it.
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
    command += ["earlyhelp.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning"]
    if workers is not None:
        command += ["--workers", str(workers)]
    if threads is not None:
        command += ["--threads", str(threads)]
    if worker_class is not None:
        command += ["--worker-class", worker_class]
    log = (ROOT / "var" / "bench-api-gunicorn.log").open("a")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=log)  # noqa: S603
    _wait_for_port(port)
    return process


def _wrk(url: str, args: argparse.Namespace, files: dict[str, Any], seconds: int) -> str:
    command = ["wrk", "--threads", str(args.threads), "--connections", str(args.connections)]
    command += ["--duration", f"{seconds}s", "--timeout", "10s", "--script", str(files["script"])]
    command += [url, "--", files["auth"], str(files["body"])]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603


def _parse(target: str, output: str) -> Result:
    line = next(line for line in output.splitlines() if line.startswith("SUMMARY "))
    data = json.loads(line.removeprefix("SUMMARY "))
    return Result(
        target=target,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        non_2xx=data["non_2xx"],
        socket_errors=data["socket_errors"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


def _run(
    target: str, path: str, env: dict[str, str], args: argparse.Namespace, files: dict[str, Any]
) -> tuple[Result, Result]:
    """Warm-up then the measured run, against a fresh gunicorn; returns both."""
    server = _gunicorn(env, args.port, args.workers, args.server_threads, args.worker_class)
    url = f"http://127.0.0.1:{args.port}{path}"
    database = urlparse(env["DATABASE_URL"]).path.lstrip("/")
    try:
        warmup = _parse(target, _wrk(url, args, files, args.warmup))
        before = _cpu_seconds(server.pid, database)
        measured = _parse(target, _wrk(url, args, files, args.duration))
        after = _cpu_seconds(server.pid, database)
    finally:
        server.terminate()
        server.wait(timeout=30)
    spent = {group: after[group] - before.get(group, 0.0) for group in after}
    machine = spent.pop("machine", None)
    cpu_ms = {group: used / max(measured.requests, 1) * 1000 for group, used in spent.items()}
    elsewhere = None
    if machine is not None:
        capacity = (os.cpu_count() or 1) * measured.seconds
        elsewhere = max(0.0, machine - sum(spent.values())) / capacity
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return warmup, replace(measured, cpu_ms=cpu_ms, elsewhere=elsewhere, load=load)


def _cpu_seconds(server_pid: int, database: str) -> dict[str, float]:
    """CPU seconds so far: gunicorn (master and workers), the database's backends, wrk, and
    the whole machine (every process, and the kernel's interrupt work).

    Read from /proc; only wrk's where there is none. A backend's title names its database.
    """
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the wrk runs that finished
    seconds = {"wrk": children.ru_utime + children.ru_stime}
    proc = Path("/proc")
    if not proc.is_dir():
        return seconds
    tick = os.sysconf("SC_CLK_TCK")
    seconds |= {"gunicorn": 0.0, "postgres": 0.0}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        used = (int(stat[11]) + int(stat[12])) / tick  # utime + stime
        if int(entry.name) == server_pid or int(stat[1]) == server_pid:
            seconds["gunicorn"] += used
        elif title.startswith("postgres: ") and f" {database} " in title:
            seconds["postgres"] += used
    if not seconds["postgres"]:  # PostgreSQL runs elsewhere
        del seconds["postgres"]
    # user, nice, system, idle, iowait, irq, softirq: all but idle and iowait are busy
    ticks = [int(value) for value in (proc / "stat").read_text().split()[1:8]]
    seconds["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / tick
    return seconds


def _count_referrals(env: dict[str, str]) -> int:
    script = (
        "import django; django.setup()\n"
        "from cases.models import Referral\n"
        "print(Referral.objects.count())\n"
    )
    result = subprocess.run(  # noqa: S603  (our own fixed commands)
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(result.stdout.strip().splitlines()[-1])


def _empty_queue(broker_url: str) -> None:
    """Drop the follow-ups no worker consumed during the run (the bench database is gone)."""
    import redis

    redis.Redis.from_url(broker_url).delete("celery")


def _report(results: list[Result], created: int, referrals: int) -> None:
    print(f"{'target':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'errors':>8}")
    for result in results:
        print(
            f"{result.target:<34}{result.per_second:>9.0f}{result.p50_ms:>9.1f}"
            f"{result.p99_ms:>9.1f}{result.non_2xx:>9}{result.socket_errors:>8}"
        )
    for result in results:
        cpu = ", ".join(f"{group} {ms:.2f} ms" for group, ms in result.cpu_ms.items())
        print(f"{result.target}: CPU per request: {cpu}.")
        if result.elsewhere is not None:
            print(f"  Meanwhile other work took {result.elsewhere:.0%} of the machine's CPU.")
        print(f"  Load average at the end: {result.load}.")
    floor, api = results
    print(f"API throughput: {api.per_second / floor.per_second:.0%} of the floor's.")
    print("Target: at least 300 referrals/s with p99 under 250 ms.")
    print(f"201 responses seen by wrk: {created}; referrals in the database: {referrals}.")
    if referrals < created:
        raise SystemExit("Referrals were lost: fewer rows than 201 responses.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds of sustained load")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up, not counted")
    parser.add_argument("--connections", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, help="gunicorn processes (gunicorn.conf.py's)")
    parser.add_argument("--server-threads", type=int, help="threads each (gunicorn.conf.py's)")
    parser.add_argument(
        "--worker-class", help="gunicorn worker class, sync or gthread (gunicorn.conf.py's)"
    )
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/15")
    _require_tools(database_url)
    env = _environment(_bench_database(database_url), broker_url)
    auth = _prepare(env)
    with tempfile.TemporaryDirectory() as folder:
        script, body = Path(folder, "post.lua"), Path(folder, "body.json")
        script.write_text(LUA)
        body.write_text(_body_template())
        files: dict[str, Any] = {"script": script, "body": body, "auth": auth}
        workers = args.workers or _configured("workers")
        worker_class = args.worker_class or _configured("worker_class")
        if worker_class == "sync" and args.server_threads is None:
            # gunicorn quietly runs gthread instead of sync when threads > 1
            args.server_threads = 1
        threads = args.server_threads or _configured("threads")
        print(
            f"{args.duration}s of POSTs, {args.connections} connections, gunicorn {worker_class} "
            f"{workers}×{threads} threads, PostgreSQL, broker {broker_url}, "
            f"{os.cpu_count()} CPUs, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
        )
        _, floor = _run("bare view, one insert (floor)", "/api/bench/floor/", env, args, files)
        warmup, api = _run("POST /api/v1/referrals/", "/api/v1/referrals/", env, args, files)
    _empty_queue(broker_url)
    created = sum(run.requests - run.non_2xx for run in (warmup, api))
    _report([floor, api], created, _count_referrals(env))


if __name__ == "__main__":
    main()
