"""What authenticating an API key costs per request, with production argon2id parameters.

    python -m bench.api_key_auth [--requests 20000]

Measures, in one run against a fresh SQLite database: the first request of a key in a process
(one argon2id verification plus a lookup), every later request (an in-memory digest compare:
the design), and a bare argon2id verification for scale. Prints per-request times and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from identity import create_app
from identity.crypto.secrets import SecretHasher, parse_api_key
from identity.extensions import db
from identity.services import epochs
from identity.settings import Argon2Parameters, Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"IDENTITY_INSTANCE_PATH": tmp}, argon2=Argon2Parameters())
        app = create_app(settings)
        assert app.test_cli_runner().invoke(args=["admin", "db", "upgrade"]).exit_code == 0
        from tests.conftest import Platforms

        helper = Platforms(app)
        presented = parse_api_key(helper.key(helper.create()))
        assert presented is not None
        runtime = app.extensions["identity"]
        with app.app_context():
            session = db.session()
            epoch = epochs.read_epochs(session)["auth"]
            started = time.perf_counter()
            assert runtime.authenticator.authenticate(session, presented, epoch) is not None
            first = time.perf_counter() - started
            samples = []
            for _ in range(args.requests):
                started = time.perf_counter()
                runtime.authenticator.authenticate(session, presented, epoch)
                samples.append(time.perf_counter() - started)
        params = Argon2Parameters()
        hasher = SecretHasher(time_cost=params.time_cost, memory_cost_kib=params.memory_cost_kib,
                              parallelism=params.parallelism)
        stored = hasher.hash("x" * 48)
        started = time.perf_counter()
        for _ in range(5):
            hasher.verify(stored, "x" * 48)
        bare = (time.perf_counter() - started) / 5
    cached = statistics.median(samples)
    print(f"argon2id parameters: t={params.time_cost} m={params.memory_cost_kib} KiB p={params.parallelism}")
    print(f"bare argon2id verify:            {bare * 1e3:9.3f} ms")
    print(f"first request of a key:          {first * 1e3:9.3f} ms  (argon2 + lookup)")
    print(f"later requests (median of {len(samples)}): {cached * 1e6:9.3f} us  (digest compare)")
    print(f"ratio later/bare argon2:         {cached / bare:9.6f}  ({bare / cached:,.0f}x cheaper)")


if __name__ == "__main__":
    main()
