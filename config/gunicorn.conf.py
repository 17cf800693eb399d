"""gunicorn settings for the identity service: `gunicorn -c config/gunicorn.conf.py 'identity:create_app()'`.

Overridable by environment: IDENTITY_BIND (default 127.0.0.1:8000), IDENTITY_WORKERS
(default 2 x usable CPUs + 1, counted from the container's CPU quota where there is one),
IDENTITY_TIMEOUT (seconds, default 30).
"""

import os
import sys
import tempfile

from identity.cpu_quota import default_workers

bind = os.environ.get("IDENTITY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("IDENTITY_WORKERS") or default_workers())
worker_class = "sync"
timeout = int(os.environ.get("IDENTITY_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so no slow leak can grow without bound.
max_requests = 100_000
max_requests_jitter = 10_000
accesslog = "-"
errorlog = "-"
# identity.gunicorn_logging: %(U)s is the route template (`/v1/accounts/{pseudonym}`), never the
# path with its ids, and never a query string (`?external_ref=`). With IDENTITY_LOG_FORMAT=json
# every line (access lines included) is a JSON object with a timestamp and the request id.
logger_class = "identity.gunicorn_logging.IdentityLogger"
access_log_format = '%(t)s %(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# Every worker writes its metrics to a shared folder; /metrics adds them up.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="identity-metrics-")


def on_starting(server):  # noqa: ARG001 - gunicorn's hook signature
    """Check the configuration once, in the master, before any worker boots: a bad setting or a
    missing root key stops gunicorn with one line, instead of a traceback from every worker."""
    from identity.process_state import start_up_problem

    problem = start_up_problem()
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(1)


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
