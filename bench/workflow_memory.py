"""Benchmark: what the memory and language nodes cost per run (issue 23).

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=x .venv/bin/python bench/workflow_memory.py [-n N]

Runs Write to memory, Read from memory and the Memory payload collector N times each against
the Redis of CDP_MEMORY_REDIS_URL (keys `cdp:memory:bench-*`, deleted afterwards), then loads
the language model once and detects the language of a 61-character text N times. Prints the
milliseconds per node run and the model's load time. Needs no database rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")


def main() -> None:
    import django

    django.setup()
    import redis
    from django.conf import settings

    from apps.workflows.actions import language
    from apps.workflows.memory import KEY_PREFIX
    from tests.workflows.graphs import run_action

    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1000)
    n = parser.parse_args().n

    def per_run(action_id: str, config) -> float:
        started = time.perf_counter()
        for index in range(n):
            run_action(action_id, config(index))
        return (time.perf_counter() - started) / n * 1000

    write = per_run(
        "write_memory", lambda i: {"key": f"bench-{i % 50}", "value": "event@properties"}
    )
    read = per_run("read_memory", lambda i: {"key": f"bench-{i % 50}"})
    collect = per_run("memory_collector", lambda i: {"key": "bench-c", "value": "event@id"})
    client = redis.Redis.from_url(settings.CDP_MEMORY_REDIS_URL)
    for key in client.scan_iter(f"{KEY_PREFIX}*bench-*"):
        client.delete(key)
    started = time.perf_counter()
    language.language_detect("warm up")
    load = time.perf_counter() - started
    text = "The delivery was fast and the shoes fit perfectly, thank you!"
    started = time.perf_counter()
    for _ in range(n):
        language.language_detect(text)
    detect = (time.perf_counter() - started) / n * 1000
    print(f"load average {os.getloadavg()[0]:.1f}; {n} runs each")
    print(f"write_memory {write:.3f} ms, read_memory {read:.3f} ms, collector {collect:.3f} ms")
    print(f"language model load {load:.2f} s, detect {detect:.3f} ms per 61-character text")


if __name__ == "__main__":
    main()
