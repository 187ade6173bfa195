"""CPU of one order POST and one cart quote in-process, through the WSGI application.

    DATABASE_URL=postgres://... .venv/bin/python bench/api_cpu.py [--requests 500]
        [--broker redis://127.0.0.1:6379/6] [--profile orders|quotes] [--profiler cprofile]

The same path as gunicorn's workers without the HTTP parsing: ``config.wsgi.application``
called with a WSGI environ per request, DEBUG off, persistent connections, the kick going to
``--broker`` (debounced; nothing drains: the events stay pending, beat's sweep or a worker
applies them later). Needs a database filled with ``manage.py demo`` (the ``ua`` shop).
Prints the median and p90 of the thread's CPU time per order POST and per quote (the
requests alternate, orders like bench_api.py's: 1-4 lines, completed and paid; quotes of
3 lines for a customer), and the wall time. ``--profile`` profiles that kind instead
(pyinstrument if installed, else cProfile) and prints the profile.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "0"
os.environ["ALLOWED_HOSTS"] = "127.0.0.1,testserver"


def environ(path: str, body: bytes, key: str) -> dict:
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ACCEPT_ENCODING": "identity",
        "HTTP_CONNECTION": "keep-alive", "HTTP_USER_AGENT": "Python-urllib/3.11",
        "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def call(app, path: str, payload: dict, key: str) -> tuple[int, bytes]:
    got = {}

    def start_response(status, headers, exc_info=None):
        got["status"] = int(status.split()[0])

    body = json.dumps(payload).encode()
    response = app(environ(path, body, key), start_response)
    try:
        content = b"".join(response)
    finally:
        response.close()  # request_finished: what gunicorn does after each response
    return got["status"], content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="of each kind")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--profile", choices=["orders", "quotes"])
    parser.add_argument("--profiler", choices=["pyinstrument", "cprofile"],
                        default="pyinstrument")
    args = parser.parse_args()
    os.environ["CELERY_BROKER_URL"] = args.broker
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_api

    world = bench_api.prepare(1.5)
    from config.wsgi import application

    rng = random.Random(1)
    prefix = f"P{datetime.now(UTC):%Y%m%d%H%M%S}"
    start_day = datetime.now(UTC) - timedelta(days=1)
    counter = iter(range(10**9))

    def order():
        i = next(counter)
        body = bench_api.order_body(world, rng, f"{prefix}-{i:07d}",
                                    start_day + timedelta(seconds=i))
        status, content = call(application, "/api/v1/orders", body, world["key"])
        assert status == 201, content

    def quote():
        status, content = call(application, "/api/v1/quotes", bench_api.quote_body(world, rng),
                               world["key"])
        assert status == 200, content

    for _ in range(args.warmup):
        order()
        quote()
    if args.profile:
        run = order if args.profile == "orders" else quote
        if args.profiler == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
            for _ in range(args.requests):
                run()
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        else:
            import cProfile
            import pstats

            profile = cProfile.Profile(time.thread_time)  # CPU, not wall
            profile.enable()
            for _ in range(args.requests):
                run()
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats("cumulative").print_stats(70)
            stats.sort_stats("tottime").print_stats(40)
        return
    cpu = {"order POST": [], "quote": []}
    wall = {"order POST": [], "quote": []}
    for _ in range(args.requests):
        for name, run in (("order POST", order), ("quote", quote)):
            c0, w0 = time.thread_time(), time.perf_counter()
            run()
            cpu[name].append(time.thread_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    print(f"{args.requests} of each, load average {os.getloadavg()[0]:.1f}")
    for name in cpu:
        deciles = statistics.quantiles(cpu[name], n=10)
        print(f"{name:>10}: CPU median {statistics.median(cpu[name]) * 1000:.2f} ms, "
              f"p90 {deciles[-1] * 1000:.2f} ms; wall median "
              f"{statistics.median(wall[name]) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
