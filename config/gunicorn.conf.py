"""gunicorn settings for Patron (production server): ``gunicorn -c config/gunicorn.conf.py``.

Environment: GUNICORN_BIND (127.0.0.1:8000), GUNICORN_WORKERS (number of cores),
GUNICORN_THREADS (4), GUNICORN_KEEPALIVE (seconds, 5), GUNICORN_TIMEOUT (30).

Why threaded workers (``gthread``): a storefront posts orders over keep-alive connections;
gunicorn's sync workers close the connection after every response, so each request would
pay a new TCP connection, and a worker blocked on PostgreSQL does nothing else meanwhile.
With one process per core and a few threads each, one thread runs Python while the others
wait on the database or the network; more threads than that only queue on the GIL. Each
thread keeps its own database connection (``CONN_MAX_AGE``), so expect workers x threads
connections per server (plus the Celery worker's), well under PostgreSQL's default 100.
"""

import multiprocessing
import os

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
# The app is imported once in the master and forked: workers start faster and share memory.
# Nothing opens a database or broker connection at import time (settings only read the
# environment), so nothing is shared by accident across the fork.
preload_app = True
# Heartbeat files in memory, not on a possibly slow disk (gunicorn's advice for containers).
SHM = "/dev/shm"  # noqa: S108 - gunicorn only writes its heartbeat files there
worker_tmp_dir = SHM if os.path.isdir(SHM) else None
# Access logs cost a write per request; the reverse proxy in front keeps them.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
