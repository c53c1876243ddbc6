"""`volunteer-app backup` and `volunteer-app restore`: an online SQLite backup taken while the app
writes holds every row committed before it started; restore checks what it is given and refuses
to overwrite a database without --force; PostgreSQL is pointed to pg_dump / pg_restore."""
from __future__ import annotations

import shutil
import sqlite3
import threading
import time

import pytest
from sqlmodel import Session, select

from volunteer_app import audit, create_app
from volunteer_app.db import _bind
from volunteer_app.maintenance import MaintenanceError, backup_sqlite, check_backup_file
from volunteer_app.models import AuditEvent, Unit


@pytest.fixture
def sqlite_app(sqlite_template, tmp_path, monkeypatch):
    """The app on a SQLite file of its own (backup and restore are about that file)."""
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path / "instance"))
    path = tmp_path / "live.db"
    shutil.copy(sqlite_template, path)
    application = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}",
                              "SECRET_KEY": "test-secret-key-not-for-production"})
    application.config["DB_FILE"] = path
    yield application
    application.extensions["db_engine"].dispose()


def unit_codes(path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT code FROM unit")}
    finally:
        conn.close()


class Writers:
    """Threads that keep committing rows (units, and audit events in the same transaction) until stopped."""

    def __init__(self, engine, threads: int = 4):
        self.engine = engine
        self.committed: list[str] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(threads)]

    def _run(self, n: int):
        i = 0
        while not self._stop.is_set():
            code = f"W{n}-{i}"
            try:
                with Session(bind=_bind(self.engine, True)) as session:
                    unit = Unit(name=f"写入测试{n}-{i}", level="district", code=code, path="/")
                    session.add(unit)
                    session.flush()
                    audit.record(session=session, action="unit.create", object_type="unit", object_id=unit.id)
                    session.commit()
            except Exception as exc:  # reported by the test
                self.errors.append(repr(exc))
                return
            with self._lock:
                self.committed.append(code)
            i += 1

    def start(self):
        for thread in self._threads:
            thread.start()

    def snapshot(self) -> set[str]:
        with self._lock:
            return set(self.committed)

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def test_backup_during_concurrent_writes_holds_every_committed_row(sqlite_app, tmp_path):
    runner = sqlite_app.test_cli_runner()
    writers = Writers(sqlite_app.extensions["db_engine"])
    writers.start()
    try:
        deadline = time.monotonic() + 30
        while len(writers.snapshot()) < 40 and time.monotonic() < deadline and not writers.errors:
            time.sleep(0.05)
        committed_before = writers.snapshot()
        result = runner.invoke(args=["backup", str(tmp_path / "backup.db")])
        time.sleep(0.2)  # writers keep going after the backup, too
    finally:
        writers.stop()
    assert not writers.errors
    assert result.exit_code == 0, result.output
    assert len(committed_before) >= 40
    backup_path = tmp_path / "backup.db"
    in_backup = unit_codes(backup_path)
    assert committed_before <= in_backup, f"lost {len(committed_before - in_backup)} committed rows"
    assert len(writers.snapshot()) > len(committed_before)  # the app really was writing during the backup
    check_backup_file(backup_path)  # intact, a Red Vest database
    assert not (tmp_path / "backup.db-wal").exists()  # one self-contained file

    # Restore: refused over the live database without --force, done with it.
    live = sqlite_app.config["DB_FILE"]
    refused = runner.invoke(args=["restore", str(backup_path)])
    assert refused.exit_code == 1 and "--force" in refused.output
    assert unit_codes(live) >= writers.snapshot()  # untouched
    result = runner.invoke(args=["restore", str(backup_path), "--force"])
    assert result.exit_code == 0, result.output
    restored = unit_codes(live)
    assert restored == in_backup and committed_before <= restored
    conn = sqlite3.connect(live)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    with Session(sqlite_app.extensions["db_engine"]) as session:
        assert audit.verify(session=session) is None  # the chain came back whole
        assert len(session.exec(select(AuditEvent)).all()) == len(restored)


def test_backup_into_a_directory_gets_a_dated_name_and_never_overwrites(sqlite_app, tmp_path):
    runner = sqlite_app.test_cli_runner()
    folder = tmp_path / "backups"
    folder.mkdir()
    result = runner.invoke(args=["backup", str(folder)])
    assert result.exit_code == 0, result.output
    (written,) = folder.glob("volunteer-*.db")
    again = runner.invoke(args=["backup", str(written)])
    assert again.exit_code == 1 and "exists" in again.output
    assert runner.invoke(args=["backup", str(written), "--force"]).exit_code == 0
    assert not list(folder.glob(".*partial*"))


def test_the_backup_cannot_be_the_database_itself(sqlite_app):
    with pytest.raises(MaintenanceError):
        backup_sqlite(sqlite_app.config["DB_FILE"], sqlite_app.config["DB_FILE"], force=True)


def test_restore_into_a_new_installation_needs_no_force(sqlite_app, tmp_path, monkeypatch):
    backup = tmp_path / "b.db"
    assert sqlite_app.test_cli_runner().invoke(args=["backup", str(backup)]).exit_code == 0
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path / "instance2"))
    fresh = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/new.db",
                        "SECRET_KEY": "test-secret-key-not-for-production"})
    try:
        result = fresh.test_cli_runner().invoke(args=["restore", str(backup)])
        assert result.exit_code == 0, result.output
        assert unit_codes(tmp_path / "new.db") == unit_codes(sqlite_app.config["DB_FILE"])
    finally:
        fresh.extensions["db_engine"].dispose()


def _not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("roster,phone\n")
    return path, "not a SQLite database"


def _foreign_database(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE volunteer (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    return path, "not a Red Vest database"


def _damaged_database(tmp_path, source):
    path = tmp_path / "damaged.db"
    shutil.copy(source, path)
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page * 2, min(len(data), page * 6), 7):  # scribble over pages 3-6
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    return path, "damaged"


@pytest.mark.parametrize("kind", ["missing", "not_a_database", "foreign", "damaged"])
def test_restore_refuses_what_is_not_a_good_red_vest_backup(sqlite_app, tmp_path, kind):
    runner = sqlite_app.test_cli_runner()
    good = tmp_path / "good.db"
    assert runner.invoke(args=["backup", str(good)]).exit_code == 0
    if kind == "missing":
        source, expected = tmp_path / "nope.db", "does not exist"
    elif kind == "not_a_database":
        source, expected = _not_a_database(tmp_path)
    elif kind == "foreign":
        source, expected = _foreign_database(tmp_path)
    else:
        source, expected = _damaged_database(tmp_path, good)
    before = unit_codes(sqlite_app.config["DB_FILE"])
    result = runner.invoke(args=["restore", str(source), "--force"])
    assert result.exit_code == 1
    assert expected in result.output or "cannot be read" in result.output
    assert unit_codes(sqlite_app.config["DB_FILE"]) == before  # the live database is untouched


def test_on_postgresql_the_commands_explain_pg_dump_and_pg_restore(pg_url, tmp_path, monkeypatch):
    from .conftest import require

    require(pg_url[len("unavailable: "):] if pg_url.startswith("unavailable: ") else None)
    monkeypatch.setenv("VOLUNTEER_APP_INSTANCE", str(tmp_path / "instance"))
    application = create_app({"TESTING": True, "DATABASE_URL": pg_url,
                              "SECRET_KEY": "test-secret-key-not-for-production"})
    try:
        runner = application.test_cli_runner()
        backup = runner.invoke(args=["backup", str(tmp_path / "x.dump")])
        assert backup.exit_code == 2
        assert "pg_dump --format=custom" in backup.output and "x.dump" in backup.output
        restore = runner.invoke(args=["restore", str(tmp_path / "x.dump")])
        assert restore.exit_code == 2 and "pg_restore" in restore.output
        assert "+psycopg" not in backup.output  # a URL the PostgreSQL tools understand
    finally:
        application.extensions["db_engine"].dispose()
