import threading

from sqlalchemy import create_engine, text

from identity.engine_behaviour import configure_engine, engine_options
from tests.support.people import registration, resident_id


def test_racing_registrations_of_one_person_end_with_exactly_one_201(app, auth):
    body = registration(resident_id(sequence=7))
    statuses: list[int] = []
    start = threading.Barrier(4)

    def register() -> None:
        client = app.test_client()
        start.wait()
        statuses.append(client.post("/v1/registrations", json=body, headers=auth).status_code)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409, 409, 409]


def test_new_people_register_and_the_audit_chain_stays_intact(app, auth, runner):
    client = app.test_client()
    for sequence in range(3):
        assert client.post("/v1/registrations", json=registration(sequence=sequence + 20),
                           headers=auth).status_code == 201
    result = runner.invoke(args=["admin", "audit", "verify", "--json"])
    assert result.exit_code == 0, result.output


def test_a_thread_writing_on_two_sqlite_connections_does_not_wait_on_itself(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    engine = create_engine(url, **engine_options(url))
    configure_engine(engine)
    with engine.begin() as first:
        first.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.begin() as first:
        first.execute(text("INSERT INTO t VALUES (1)"))
        # A second writer in the same thread must not block on the flock it holds itself; SQLite's
        # own lock answers it (busy) instead. A short busy timeout keeps the test quick.
        second = engine.connect()
        second.connection.dbapi_connection.execute("PRAGMA busy_timeout=50")
        try:
            second.begin()
        except Exception as error:
            assert "locked" in str(error)
        finally:
            second.close()
    with engine.connect() as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 1
    engine.dispose()
