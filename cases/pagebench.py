"""Page benchmark: server time of the practitioner pages with 100,000 families, on gunicorn.

    DATABASE_URL=postgres://…/earlyhelp_pagebench python -m cases.pagebench --families 100000

(``make bench-pages``). The database named by DATABASE_URL is seeded once and reused while it
holds the same set: the synthetic generator and the SSD importer load the families, then a
set-based step (``bench_accounts_setup``, ``plans_setup``) adds a login for every generated
council lead worker, so each practitioner carries their generated caseload, a manager per team,
and open plans whose next reviews fall around today. gunicorn then serves the app with the
production settings (DEBUG off, static files from WhiteNoise) and a separate process requests
the pages over HTTP, signed in as several practitioners and managers.

Server time per request is read from the ``Server-Timing`` header (``earlyhelp.timing``, on
only when DJANGO_SERVER_TIMING is set); client time is the load process's own clock. Queries
per page come from a few requests made in-process under ``CaptureQueriesContext``.

The pages are data (``PAGES``): a page whose URL name does not reverse on this branch is
skipped, and the report says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import io
import os
import queue
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlencode, urlparse, urlsplit, urlunparse

if TYPE_CHECKING:
    from earlyhelp.models import User

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FAMILIES = 100_000
DEFAULT_DIR = Path("var/pagebench-ssd")
TARGET_P95_MS = 200.0

# Generated lead worker ids look like "NORTH-FS-W007" (a council team's worker) or
# "URN107890-LP003" (a partner organisation's); the importer links each to the user of that name.
COUNCIL_WORKER = re.compile(r"(?P<team>.+)-W\d+")
MANAGER_SUFFIX = "-MGR"
BENCH_ACCOUNTS_FROM = dt.date(2019, 1, 1)  # before the generator's first episode

# Next review dates of the seeded open plans: overdue, due in the next 7 days, later, none.
REVIEW_SPREAD = (0.25, 0.15, 0.50, 0.10)


# --- Seeding --------------------------------------------------------------------------------


def children_for(families: int) -> int:
    """Children to generate for about ``families`` families."""
    from cases.interchange.generator import MEAN_CHILDREN_PER_FAMILY

    return max(1, round(families * MEAN_CHILDREN_PER_FAMILY))


def worker_ids(directory: Path) -> list[str]:
    """The lead worker ids of the generated early help episodes."""
    import pandas as pd

    episodes = pd.read_csv(
        directory / "ssd_early_help_episodes.csv",
        usecols=["earl_episode_worker_id"],
        dtype=str,
        keep_default_na=False,
    )
    return sorted(set(episodes.earl_episode_worker_id) - {""})


def bench_accounts_setup(worker_ids: Iterable[str]) -> dict[str, int]:
    """Logins for the generated council workers (practitioners in their team) and a manager
    per council team, set-based; run before the import so it links episodes to them.

    Hundreds of accounts through ``user_create`` would spend minutes hashing passwords nobody
    types: these have unusable passwords and the benchmark signs in with sessions instead.
    Existing accounts are left alone, so a rerun adds nothing.
    """
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from earlyhelp.models import Membership, Organisation, Team, User

    teams = {team.code: team for team in Team.objects.filter(organisation__kind="council")}
    wanted: dict[str, tuple[Team, str]] = {}
    for worker in worker_ids:
        match = COUNCIL_WORKER.fullmatch(worker)
        if match and match["team"] in teams:
            wanted[worker] = (teams[match["team"]], Membership.Role.PRACTITIONER)
    for code, team in teams.items():
        wanted[f"{code}{MANAGER_SUFFIX}"] = (team, Membership.Role.TEAM_MANAGER)

    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    new = {name: how for name, how in wanted.items() if name not in existing}
    organisation_ids = {team.organisation_id for team, _ in new.values()}
    organisations = Organisation.objects.in_bulk(organisation_ids)
    with transaction.atomic():
        User.objects.bulk_create(
            [
                User(
                    username=name,
                    first_name="Bench",
                    last_name=name,
                    organisation=organisations[team.organisation_id],
                    password=make_password(None),
                )
                for name, (team, _) in new.items()
            ],
            batch_size=500,
        )
        ids = dict(User.objects.filter(username__in=new).values_list("username", "id"))
        Membership.objects.bulk_create(
            [
                Membership(
                    user_id=ids[name],
                    organisation_id=team.organisation_id,
                    team=team,
                    role=role,
                    started_on=BENCH_ACCOUNTS_FROM,
                )
                for name, (team, role) in new.items()
            ],
            batch_size=500,
        )
    roles = [role for _, role in new.values()]
    return {
        "practitioners": roles.count(Membership.Role.PRACTITIONER),
        "managers": roles.count(Membership.Role.TEAM_MANAGER),
    }


def plans_setup(*, today: dt.date, seed: int) -> int:
    """An open plan on the completed assessment of most open early help spells, with the next
    review spread around ``today`` (``REVIEW_SPREAD``), so caseloads show overdue reviews,
    reviews due this week, later ones and plans without a date. Returns plans made.

    The generator has no plans, and ``plan_create`` services belong to another part of the
    work: these are made set-based. Runs once (nothing is made if any plan exists).
    """
    import numpy as np

    from assessments.models import Assessment, Plan

    if Plan.objects.exists():
        return 0
    latest: dict[int, tuple[int, dt.date | None]] = {}
    rows = (
        Assessment.objects.filter(episode__ended_on__isnull=True, completed_on__isnull=False)
        .order_by("family_id", "completed_on", "id")
        .values_list("family_id", "id", "completed_on")
    )
    for family_id, assessment_id, completed_on in rows:
        latest[family_id] = (assessment_id, completed_on)  # the latest wins
    rng = np.random.default_rng(seed)
    count = len(latest)
    bucket = rng.choice(len(REVIEW_SPREAD), size=count, p=REVIEW_SPREAD)
    offset = np.select(
        [bucket == 0, bucket == 1, bucket == 2],
        [rng.integers(-28, 0, count), rng.integers(0, 8, count), rng.integers(8, 43, count)],
        0,
    )
    plans = [
        Plan(
            assessment_id=assessment_id,
            started_on=min(completed_on or today, today),
            next_review_on=None if b == 3 else today + dt.timedelta(days=int(days)),
        )
        for (assessment_id, completed_on), b, days in zip(
            latest.values(), bucket, offset, strict=True
        )
    ]
    Plan.objects.bulk_create(plans, batch_size=2000)
    return len(plans)


def _import(directory: Path) -> None:
    from cases.interchange.format import CODE_MAP_FILE
    from cases.interchange.importer import ImportRejected, import_ssd

    try:
        import_ssd(directory, code_map=directory / CODE_MAP_FILE)
    except ImportRejected as exc:
        for error in exc.errors[:20]:
            print(f"  {error.file}:{error.line}:{error.column}: {error.reason}", file=sys.stderr)
        raise SystemExit(f"The generated set was rejected ({len(exc.errors)} problems).") from exc


@dataclass(frozen=True)
class Seeded:
    families: int
    children: int
    open_episodes: int
    open_plans: int
    reused: bool
    seconds: float


def seed(directory: Path, *, families: int, seed: int, reseed: bool = False) -> Seeded:
    """Migrate, then load the set for ``families`` unless the database already holds it."""
    from django.core.management import call_command
    from django.db import connection

    from assessments.models import Plan
    from cases.interchange.bench import empty_case_tables, ensure_set
    from cases.management.commands.seed_demo import demo_accounts_setup
    from cases.models import Episode, Family, FamilyMembership

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    demo_accounts_setup()
    rows, _ = ensure_set(directory, children_for(families), seed)
    expected = rows["eh_families"]
    present = Family.objects.count()
    reused = present == expected and Plan.objects.exists() and not reseed
    if present and present != expected:
        # Like make bench-import, the benchmark owns its database: another set is replaced.
        print(f"The database holds {present:,} families, not this set's {expected:,}: reloading")
    if not reused:
        if present or reseed:
            empty_case_tables()
        bench_accounts_setup(worker_ids(directory))
        _import(directory)
        plans_setup(today=dt.date.today(), seed=seed)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # fresh statistics, as a live database would have
    return Seeded(
        families=Family.objects.count(),
        children=FamilyMembership.objects.filter(role="child").count(),
        open_episodes=Episode.objects.filter(ended_on__isnull=True).count(),
        open_plans=Plan.objects.filter(status=Plan.Status.OPEN).count(),
        reused=reused,
        seconds=time.perf_counter() - started,
    )


# --- Who signs in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    """A signed-in user and what their pages are asked about."""

    username: str
    kind: str  # "practitioner" or "manager"
    session_key: str
    open_children: int
    team_ids: tuple[int, ...]
    level_ids: tuple[int, ...]
    families: tuple[str, ...]  # references of families this user may see
    surnames: tuple[str, ...]  # of children in those families, for search


def signed_in(user: User) -> str:
    """A session key for ``user``, made as the test client signs in (no password needed)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _persona(user: User, kind: str, open_children: int, rng: random.Random) -> Persona:
    from cases.models import FamilyMembership, LevelOfNeed
    from cases.selectors import families_visible_to
    from earlyhelp.access import access_for

    visible = sorted(families_visible_to(user).values_list("reference", flat=True))
    families = tuple(rng.sample(visible, min(len(visible), 200)))
    surnames = FamilyMembership.objects.filter(
        family__reference__in=families[:40], role="child"
    ).values_list("person__surname", flat=True)
    return Persona(
        username=user.username,
        kind=kind,
        session_key=signed_in(user),
        open_children=open_children,
        team_ids=tuple(sorted(access_for(user).team_ids)),
        level_ids=tuple(LevelOfNeed.objects.filter(is_active=True).values_list("id", flat=True)),
        families=families,
        surnames=tuple(sorted(set(surnames))),
    )


def personas(*, practitioners: int, managers: int, seed: int) -> list[Persona]:
    """Practitioners with an open caseload and team managers, picked at random (seeded)."""
    from django.db.models import Count

    from cases.models import Episode
    from earlyhelp.access import current_memberships
    from earlyhelp.models import Membership, User

    rng = random.Random(seed)

    def in_role(role: str) -> Any:
        return Membership.objects.filter(current_memberships(), role=role).values("user_id")

    caseloads = dict(
        Episode.objects.filter(
            ended_on__isnull=True,
            lead_practitioner__in=in_role(Membership.Role.PRACTITIONER),
        )
        .values_list("lead_practitioner")
        .annotate(open=Count("id"))
        .order_by()
    )
    workers = sorted(User.objects.filter(pk__in=caseloads), key=lambda user: user.username)
    bosses = list(User.objects.filter(pk__in=in_role(Membership.Role.TEAM_MANAGER)))
    bosses.sort(key=lambda user: user.username)
    chosen = rng.sample(workers, min(practitioners, len(workers)))
    chosen_bosses = rng.sample(bosses, min(managers, len(bosses)))
    return [_persona(u, "practitioner", caseloads[u.pk], rng) for u in chosen] + [
        _persona(u, "manager", 0, rng) for u in chosen_bosses
    ]


# --- The pages ------------------------------------------------------------------------------

PRACTITIONERS = frozenset({"practitioner"})
EVERYONE = frozenset({"practitioner", "manager"})


def _url(name: str, args: Sequence[str] = (), **params: object) -> str:
    from django.urls import reverse

    query = urlencode({key: value for key, value in params.items() if value is not None})
    return reverse(name, args=args) + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Page:
    """A page of the benchmark: its URL name, who visits it and how to build each URL."""

    name: str
    url_name: str
    who: frozenset[str]
    build: Callable[[Persona, random.Random], str] = field(compare=False)


PAGES: tuple[Page, ...] = (
    Page("My caseload", "cases:caseload", PRACTITIONERS, lambda p, r: _url("cases:caseload")),
    Page(
        "My caseload: review overdue",
        "cases:caseload",
        PRACTITIONERS,
        lambda p, r: _url("cases:caseload", review="overdue"),
    ),
    Page(
        "My caseload: due this week, by child",
        "cases:caseload",
        PRACTITIONERS,
        lambda p, r: _url("cases:caseload", review="this_week", sort="child"),
    ),
    Page(
        "My caseload: team and level, newest",
        "cases:caseload",
        PRACTITIONERS,
        lambda p, r: _url(
            "cases:caseload", team=p.team_ids[0], level=r.choice(p.level_ids), sort="-started"
        ),
    ),
    Page(
        "Family record",
        "cases:family",
        EVERYONE,
        lambda p, r: _url("cases:family", [r.choice(p.families)]),
    ),
    # Built on other branches; each is measured once its URL name reverses here.
    Page(
        "Find a family (surname)",
        "cases:search",
        EVERYONE,
        lambda p, r: _url("cases:search", q=r.choice(p.surnames)),
    ),
    Page(
        "Requests for support",
        "cases:referral_inbox",
        EVERYONE,
        lambda p, r: _url("cases:referral_inbox"),
    ),
)


def available(pages: Iterable[Page]) -> tuple[list[Page], list[Page]]:
    """The pages whose URL name reverses on this branch, and the others."""
    from django.urls import get_resolver

    def reverses(url_name: str) -> bool:
        *namespaces, name = url_name.split(":")
        resolver = get_resolver()
        for namespace in namespaces:
            if namespace not in resolver.namespace_dict:
                return False
            resolver = resolver.namespace_dict[namespace][1]
        return name in resolver.reverse_dict

    present: list[Page] = []
    missing: list[Page] = []
    for page in pages:
        (present if reverses(page.url_name) else missing).append(page)
    return present, missing


Visit = tuple[str, str, str]  # page name, path, Cookie header


def plan_visits(
    pages: Iterable[Page], people: Sequence[Persona], per_page: int, rng: random.Random
) -> list[Visit]:
    """``per_page`` requests per page, shared in turn by the personas who visit it, shuffled."""
    from django.conf import settings

    visits: list[Visit] = []
    for page in pages:
        eligible = [p for p in people if p.kind in page.who]
        for n in range(per_page):
            persona = eligible[n % len(eligible)]
            cookie = f"{settings.SESSION_COOKIE_NAME}={persona.session_key}"
            visits.append((page.name, page.build(persona, rng), cookie))
    rng.shuffle(visits)
    return visits


# --- Queries per page (in-process) ------------------------------------------------------------


def query_counts(
    pages: Iterable[Page], people: Sequence[Persona], rng: random.Random, samples: int = 5
) -> dict[str, tuple[int, int]]:
    """Fewest and most SQL statements over ``samples`` requests per page, made in-process."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for page in pages:
        eligible = [p for p in people if p.kind in page.who]
        seen = []
        for n in range(samples):
            persona = eligible[n % len(eligible)]
            client = Client(HTTP_HOST="127.0.0.1")
            client.cookies[settings.SESSION_COOKIE_NAME] = persona.session_key
            path = page.build(persona, rng)
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, secure=True)
            if response.status_code != 200:
                raise SystemExit(f"{page.name}: {path} answered {response.status_code}")
            seen.append(len(captured.captured_queries))
        counts[page.name] = (min(seen), max(seen))
    return counts


# --- The load process (no Django in here) ---------------------------------------------------

# Page, HTTP status (0: no answer), client ms, and the Server-Timing metrics ("app", "db", "cpu").
Sample = tuple[str, int, float, dict[str, float]]


def server_timing(header: str) -> dict[str, float]:
    """``{"app": 12.3, "db": 4.5}`` from ``app;dur=12.3, db;dur=4.5;desc="7 queries"``."""
    timings = {}
    for metric in header.split(","):
        name, *params = (part.strip() for part in metric.split(";"))
        for param in params:
            key, _, value = param.partition("=")
            if key == "dur" and name:
                timings[name] = float(value)
    return timings


def drive(base_url: str, visits: Sequence[Visit], connections: int) -> list[Sample]:
    """GET every visit over ``connections`` keep-alive connections at once, as the HTTPS proxy
    in front of production would (X-Forwarded-Proto); returns one sample per request."""
    address = urlsplit(base_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    work: queue.SimpleQueue[Visit] = queue.SimpleQueue()
    for visit in visits:
        work.put(visit)
    samples: list[Sample] = []

    def client() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while True:
            try:
                page, path, cookie = work.get_nowait()
            except queue.Empty:
                break
            headers = {"Cookie": cookie, "X-Forwarded-Proto": "https"}
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
                samples.append((page, 0, (time.perf_counter() - started) * 1000, {}))
                continue
            client_ms = (time.perf_counter() - started) * 1000
            timing = server_timing(response.getheader("Server-Timing") or "")
            samples.append((page, response.status, client_ms, timing))
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


def drive_in_another_process(
    base_url: str, visits: Sequence[Visit], connections: int
) -> list[Sample]:
    """``drive`` in a fresh process, so the load's CPU is not the server's or this process's."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(drive, base_url, list(visits), connections).result()


# --- Figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    page: str
    requests: int
    errors: int  # not 200, or no answer
    server: tuple[float, float, float, float]  # p50, p95, p99, max (ms)
    db_p95: float
    cpu_p95: float  # the web process's own CPU: server time less waiting, for a busy machine
    client: tuple[float, float]  # p50, p95
    queries: tuple[int, int]

    @property
    def meets_target(self) -> bool:
        return self.errors == 0 and self.server[1] < TARGET_P95_MS


def _percentiles(values: Sequence[float]) -> tuple[float, float, float, float]:
    if not values:
        return (float("nan"),) * 4
    if len(values) == 1:
        return (values[0],) * 4
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98], max(values)


def _metric(samples: Iterable[Sample], name: str) -> list[float]:
    return [timings[name] for _, _, _, timings in samples if name in timings]


def summarise(
    pages: Iterable[Page], samples: Iterable[Sample], queries: dict[str, tuple[int, int]]
) -> list[Row]:
    by_page: dict[str, list[Sample]] = {}
    for sample in samples:
        by_page.setdefault(sample[0], []).append(sample)
    rows = []
    for page in pages:
        mine = by_page.get(page.name, [])
        ok = [s for s in mine if s[1] == 200 and "app" in s[3]]
        client = _percentiles([s[2] for s in ok])

        rows.append(
            Row(
                page=page.name,
                requests=len(mine),
                errors=len(mine) - len(ok),
                server=_percentiles(_metric(ok, "app")),
                db_p95=_percentiles(_metric(ok, "db"))[1],
                cpu_p95=_percentiles(_metric(ok, "cpu"))[1],
                client=(client[0], client[1]),
                queries=queries.get(page.name, (0, 0)),
            )
        )
    return rows


def report(rows: Sequence[Row], skipped: Sequence[Page], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    width = max([len(row.page) for row in rows] + [4])
    print(
        f"{'':<{width}}{'':>9}  {'server time (ms)':-^36}  {'db':>6}{'cpu':>6}"
        f"  {'client (ms)':-^15}",
        file=out,
    )
    print(
        f"{'page':<{width}}{'requests':>9}  {'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}    "
        f"{'p95':>6}{'p95':>6}  {'p50':>7}{'p95':>8}  {'queries':>7}  {'errors':>6}",
        file=out,
    )
    for row in rows:
        low, high = row.queries
        queries = str(low) if low == high else f"{low}–{high}"
        p50, p95, p99, most = row.server
        print(
            f"{row.page:<{width}}{row.requests:>9}  {p50:>8.1f}{p95:>8.1f}{p99:>8.1f}{most:>8.1f}"
            f"    {row.db_p95:>6.1f}{row.cpu_p95:>6.1f}  {row.client[0]:>7.1f}{row.client[1]:>8.1f}"
            f"  {queries:>7}  {row.errors:>6}",
            file=out,
        )
    for page in skipped:
        print(f"skipped: {page.name} ({page.url_name} does not reverse on this branch)", file=out)
    missed = [row.page for row in rows if not row.meets_target]
    verdict = "met on every page" if not missed else "MISSED on " + ", ".join(missed)
    print(f"Target p95 server time < {TARGET_P95_MS:.0f} ms: {verdict}.", file=out)


# --- The run --------------------------------------------------------------------------------


def _require_postgresql(database_url: str) -> None:
    if not urlparse(database_url).scheme.startswith("postgres"):
        raise SystemExit(
            "The page benchmark needs PostgreSQL: set DATABASE_URL, for example\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/earlyhelp_pagebench make bench-pages"
        )


def _ensure_database(database_url: str) -> None:
    """Create the database if it does not exist yet (never drop it: it is reused)."""
    import psycopg2  # type: ignore[import-untyped]

    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/")
    admin = psycopg2.connect(urlunparse(parsed._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def _environment(database_url: str) -> dict[str, str]:
    """The production settings, for this process (seeding, sessions) and gunicorn alike."""
    return {
        "DJANGO_SETTINGS_MODULE": "earlyhelp.settings.production",
        # One secret for both processes: a session's sign-in hash is keyed by it.
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "DJANGO_SERVER_TIMING": "true",
        "LOG_LEVEL": "WARNING",
    }


def _wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start on port {port}")


def _gunicorn(port: int, workers: int | None, threads: int | None) -> subprocess.Popen[bytes]:
    """gunicorn as the Dockerfile runs it (gunicorn.conf.py), unless told otherwise."""
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
    command += ["earlyhelp.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    if workers is not None:
        command += ["--workers", str(workers)]
    if threads is not None:
        command += ["--threads", str(threads)]
    command += ["--log-level", "warning", "--access-logfile", "/dev/null"]
    (ROOT / "var").mkdir(exist_ok=True)
    log = (ROOT / "var" / "bench-pages-gunicorn.log").open("a")
    process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stderr=log)  # noqa: S603
    _wait_for_port(port)
    return process


def _uptime() -> str:
    """The machine's load average as ``uptime`` prints it: the machine is shared."""
    uptime = subprocess.run(
        ["uptime"],  # noqa: S607  (the uptime on PATH, the one people read)
        capture_output=True,
        text=True,
        check=False,
    )
    return uptime.stdout.strip()


def _static_served(base_url: str) -> str:
    """The stylesheet's URL as a page links it, and that WhiteNoise serves it."""
    from django.templatetags.static import static

    path = static("build/app.css")
    address = urlsplit(base_url)
    conn = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
    conn.request("GET", path, headers={"X-Forwarded-Proto": "https"})
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"WhiteNoise did not serve {path}: {response.status}")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--families", type=int, default=DEFAULT_FAMILIES)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="generated SSD set")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--reseed", action="store_true", help="empty the case tables, reload")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per page")
    parser.add_argument("--practitioners", type=int, default=8)
    parser.add_argument("--managers", type=int, default=3)
    parser.add_argument("--connections", type=int, default=2, help="concurrent client requests")
    parser.add_argument("--workers", type=int, help="gunicorn processes (gunicorn.conf.py's)")
    parser.add_argument("--server-threads", type=int, help="threads each (gunicorn.conf.py's)")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)

    database_url = os.environ.get("DATABASE_URL", "")
    _require_postgresql(database_url)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    _ensure_database(database_url)
    os.environ.update(_environment(database_url))
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    seeded = seed(args.dir, families=args.families, seed=args.seed, reseed=args.reseed)
    how = "reused" if seeded.reused else "loaded"
    print(
        f"Page benchmark on {urlparse(database_url).path.lstrip('/')}: {seeded.families:,} "
        f"families, {seeded.children:,} children, {seeded.open_episodes:,} open episodes, "
        f"{seeded.open_plans:,} open plans ({how} in {seeded.seconds:.0f} s)"
    )
    call_command("collectstatic", interactive=False, verbosity=0)
    rng = random.Random(args.seed)
    people = personas(practitioners=args.practitioners, managers=args.managers, seed=args.seed)
    caseloads = sorted(p.open_children for p in people if p.kind == "practitioner")
    print(
        f"Signed in as {len(caseloads)} practitioners (open children each: "
        f"{', '.join(map(str, caseloads))}) and {len(people) - len(caseloads)} team managers"
    )
    pages, skipped = available(PAGES)
    queries = query_counts(pages, people, rng)
    visits = plan_visits(pages, people, args.requests, rng)
    warmup = plan_visits(pages, people, len(people), rng)

    print(f"Load before: {_uptime()}")
    server = _gunicorn(args.port, args.workers, args.server_threads)
    base_url = f"http://127.0.0.1:{args.port}"
    try:
        stylesheet = _static_served(base_url)
        drive_in_another_process(base_url, warmup, args.connections)
        load_started = time.perf_counter()
        samples = drive_in_another_process(base_url, visits, args.connections)
        load_seconds = time.perf_counter() - load_started
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"Load after:  {_uptime()}")
    configured: dict[str, Any] = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), configured)  # noqa: S102  (our own file)
    workers = (
        f"{args.workers or configured['workers']} gthread workers × "
        f"{args.server_threads or configured['threads']} threads"
        + ("" if args.workers or args.server_threads else " (as the Dockerfile runs it)")
    )
    print(
        f"gunicorn {workers}, production settings (DEBUG off), {stylesheet} served by "
        f"WhiteNoise; {args.connections} client "
        f"connections; {len(samples):,} requests in {load_seconds:.0f} s after "
        f"{len(warmup)} warm-up requests"
    )
    rows = summarise(pages, samples, queries)
    report(rows, skipped)
    print(f"wall time: {time.perf_counter() - started:.0f} s")
    if any(row.errors for row in rows):
        raise SystemExit("Some requests failed (see the errors column); the figures are void.")


if __name__ == "__main__":
    main()
