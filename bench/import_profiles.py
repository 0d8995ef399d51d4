"""The profile import benchmark (issue 14): `manage.py import_profiles` on a generated CSV file,
against a floor, a bare PostgreSQL COPY of the same rows.

    .venv/bin/python bench/import_profiles.py                 # 100,000 rows
    .venv/bin/python bench/import_profiles.py --rows 1000000

With DATABASE_URL / REDIS_URL set it uses those servers (the database --database on that
PostgreSQL server is dropped and recreated); with them unset, the embedded ones. It

1. migrates a fresh database and stores --existing-ratio (20%) of --rows as profiles with an
   e-mail (SQL, generate_series), the people the file updates;
2. writes a CSV file of --rows rows with 10 columns (e-mail, first and last name, phone, town,
   country, company, plan, score, birthday): 80% new people, 20% updates of stored ones by
   e-mail (their plan and score change), in random order;
3. runs `manage.py import_profiles FILE --match data.contact.email.main` as a child process:
   rows/s over its wall time, its peak memory (getrusage ru_maxrss of that child), and its
   counts, which must be exactly (80%) created and (20%) updated;
4. the floor: the same rows read from the same file and COPY'd (psycopg 3, one COPY) as
   profile-shaped rows (id, the fields as the data / traits JSONB documents, metadata) into a
   plain table created LIKE profiles_profile INCLUDING DEFAULTS INCLUDING INDEXES (same
   width and indexes, no constraint work beyond them): all inserts, no lookups, no typing;
5. prints rows/s of both and the ratio import / floor, the CPU time the import process used
   per row (a figure that depends less on what else runs on the machine), and the load
   average before and after (the rates are only as good as the machine was quiet).
"""

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import orjson  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from bench.track import database_recreate, database_url, load_average, python_for  # noqa: E402

FLOOR_TABLE = "bench_import_floor"
HEADER = [
    "data.contact.email.main",
    "data.pii.firstname",
    "data.pii.lastname",
    "data.contact.phone.main",
    "data.contact.address.town",
    "data.contact.address.country",
    "data.job.company.name",
    "traits.plan",
    "traits.score",
    "data.pii.birthday",
]
TOWNS = ["Berlin", "Paris", "Warsaw", "Lisbon", "Oslo", "Rome", "Madrid", "Vienna"]
PLANS = ["free", "pro", "team", "enterprise"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing-ratio", type=float, default=0.2)
    parser.add_argument("--database", default="cdp_bench_import")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--keep-file", action="store_true", help="Keep the generated CSV.")
    return parser.parse_args()


def email(number: int) -> str:
    return f"person{number}@example.com"


def seed_existing(url: str, count: int) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            """
            INSERT INTO profiles_profile (id, primary_id, ids, static_ids, active, segments,
                created, updated, visit_count, metadata, stats, traits, interests, consents,
                aux, data)
            SELECT gen_random_uuid()::text, NULL, '{}', '{}', true, '{}', now(), now(), 0,
                   '{"time": {}, "fields": {}}', '{}', '{"plan": "old"}', '{}', '{}', '{}',
                   jsonb_build_object('contact', jsonb_build_object('email',
                       jsonb_build_object('main', 'person' || n || '@example.com')))
            FROM generate_series(0, %s - 1) AS n
            """,
            [count],
        )
        connection.execute("ANALYZE profiles_profile")


def write_file(path: str, rows: int, existing: int) -> None:
    rng = random.Random(14)
    numbers = list(range(existing)) + list(range(existing * 10, existing * 10 + rows - existing))
    rng.shuffle(numbers)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for number in numbers:
            writer.writerow(
                [
                    email(number),
                    f"First{number}",
                    f"Last{number}",
                    f"+48 600 {number % 1000:03d} {number % 997:03d}",
                    rng.choice(TOWNS),
                    "PL",
                    f"Company {number % 5000}",
                    rng.choice(PLANS),
                    str(rng.randint(0, 1000)),
                    f"19{50 + number % 50}-0{1 + number % 9}-1{number % 10}",
                ]
            )


def run_import(env: dict, path: str, batch_size: int | None) -> tuple[float, object, str]:
    """Wall seconds, the child's resource usage (peak RSS, CPU) and its output."""
    command = [
        python_for(REPO),
        "manage.py",
        "import_profiles",
        path,
        "--match",
        "data.contact.email.main",
    ]
    if batch_size:
        command += ["--batch-size", str(batch_size)]
    # Output to a file, not a pipe: nothing can block the child while it is waited for.
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=output)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"import_profiles failed:\n{text}")
    return seconds, usage, text


def run_floor(url: str, path: str) -> float:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL(
                "CREATE TABLE {} (LIKE profiles_profile INCLUDING DEFAULTS INCLUDING INDEXES)"
            ).format(sql.Identifier(FLOOR_TABLE))
        )
    started = time.perf_counter()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        columns = (
            "id, ids, static_ids, active, segments, created, updated, visit_count, "
            "metadata, stats, traits, interests, consents, aux, data"
        )
        with (
            open(path, newline="", encoding="utf-8") as handle,
            cursor.copy(
                sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(FLOOR_TABLE), sql.SQL(columns)
                )
            ) as copy,
        ):
            reader = csv.reader(handle)
            next(reader)
            now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
            for cells in reader:
                data = {
                    "pii": {"firstname": cells[1], "lastname": cells[2], "birthday": cells[9]},
                    "contact": {
                        "email": {"main": cells[0]},
                        "phone": {"main": cells[3]},
                        "address": {"town": cells[4], "country": cells[5]},
                    },
                    "job": {"company": {"name": cells[6]}},
                }
                copy.write_row(
                    (
                        str(uuid.uuid4()),
                        [],
                        [],
                        True,
                        [],
                        now,
                        now,
                        0,
                        orjson.dumps({"time": {"insert": now}, "fields": {}}).decode(),
                        "{}",
                        orjson.dumps({"plan": cells[7], "score": cells[8]}).decode(),
                        "{}",
                        "{}",
                        "{}",
                        orjson.dumps(data).decode(),
                    )
                )
        connection.commit()
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        from cdp.embedded import ensure_services

        ensure_services()
    os.environ.setdefault("SECRET_KEY", "bench")
    url = database_url(os.environ["DATABASE_URL"], args.database)
    database_recreate(server_url=os.environ["DATABASE_URL"], name=args.database)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cdp.settings",
        "DEBUG": "false",
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
    }
    print(f"Preparing database {args.database} ...", flush=True)
    subprocess.run(
        [python_for(REPO), "manage.py", "migrate", "--noinput"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    existing = int(args.rows * args.existing_ratio)
    seed_existing(url, existing)
    directory = tempfile.mkdtemp(prefix="bench-import-")
    path = os.path.join(directory, "people.csv")
    write_file(path, args.rows, existing)
    size = os.path.getsize(path)
    print(f"{args.rows:,} rows ({existing:,} updates by e-mail), {size / 1e6:.1f} MB: {path}")
    print(f"load average before: {load_average()}")

    seconds, usage, output = run_import(env, path, args.batch_size)
    print("\n".join(line for line in output.splitlines() if "% of the file" not in line))
    floor_seconds = run_floor(url, path)
    print(f"load average after:  {load_average()}")
    rate = args.rows / seconds
    floor_rate = args.rows / floor_seconds
    print()
    print(f"import_profiles: {rate:>10,.0f} rows/s  ({seconds:.1f} s wall, the whole command)")
    print(f"floor (COPY):    {floor_rate:>10,.0f} rows/s  ({floor_seconds:.1f} s)")
    print(f"ratio import / floor: {rate / floor_rate:.2f}")
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"CPU of import_profiles (user + system, start-up included): {cpu:.1f} s, "
        f"{cpu / args.rows * 1e6:.0f} µs per row"
    )
    print(f"peak memory of import_profiles (ru_maxrss): {usage.ru_maxrss / 1024:.0f} MiB")
    if not args.keep_file:
        os.remove(path)
        os.rmdir(directory)


if __name__ == "__main__":
    main()
