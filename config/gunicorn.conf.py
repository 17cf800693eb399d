"""gunicorn settings for the identity service: `gunicorn -c config/gunicorn.conf.py 'identity:create_app()'`.

Overridable by environment: IDENTITY_BIND (default 127.0.0.1:8000), IDENTITY_WORKERS
(default 2 x cores + 1), IDENTITY_TIMEOUT (seconds, default 30).
"""

import multiprocessing
import os
import tempfile

bind = os.environ.get("IDENTITY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("IDENTITY_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("IDENTITY_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so no slow leak can grow without bound.
max_requests = 100_000
max_requests_jitter = 10_000
accesslog = "-"
errorlog = "-"
# %(U)s is the path without its query string: a query (`?external_ref=`) never reaches the log.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

# Every worker writes its metrics to a shared folder; /metrics adds them up.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="identity-metrics-")


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
