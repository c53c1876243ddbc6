"""The Seeder: plans the city, then streams its rows into the database in one transaction."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import click
from sqlalchemy import Connection, Engine, select
from sqlmodel import Session

from .. import schema
from .. import summary_triggers as summary
from ..models import (LIVE_METHODS, Activity, ActiveMonths, Attendance, Membership, Photo, Signup, Team, Theme, Unit,
                      Volunteer)
from .activities import ActivityPlan
from .city import CityPlan
from .content import DISTRICTS, demo_images
from .people import PeoplePlan
from .recruit import RecruitPlan
from .plan import (
    ACTIVITY_COLUMNS,
    ATT_METHOD,
    ATT_MINUTES,
    ATT_VOIDED,
    ATT_VOLUNTEER,
    ATTENDANCE_COLUMNS,
    CHINA,
    DEMO_PASSWORD,
    DEMO_PASSWORD_HASH,
    MEMBERSHIP_COLUMNS,
    PHOTO_COLUMNS,
    SIGNUP_COLUMNS,
    Scale,
    TEAM_COLUMNS,
    VOLUNTEER_COLUMNS,
    _device,
)
from .refresh import demo_logins


class Seeder(CityPlan, PeoplePlan, ActivityPlan, RecruitPlan):
    """Builds the city in memory as a plan, then streams its rows into the database."""

    def __init__(self, engine: Engine, scale: Scale, seed: int, now: int):
        """Everything derives from random.Random(seed) and the clock `now` (UTC epoch seconds)."""
        self.engine = engine
        self.scale = scale
        self.rng = random.Random(seed)
        self.seed = seed
        self.now = now
        self.today = datetime.fromtimestamp(now, CHINA).date()
        self.sqlite = engine.dialect.name == "sqlite"
        self.ts = Timestamps(self.sqlite, now)
        self.report: dict = {}

    def write(self, conn: Connection, progress) -> None:
        """Insert every planned row, in foreign-key order, activities and their attendances chunk by chunk."""
        ts = self.ts
        self.progress = progress
        summary.drop_triggers(conn)  # the summaries are written with the rows instead of per attendance
        dropped = [ix for model, in_order in ((Volunteer, ""), (Membership, "team_id"), (Activity, "starts_at"),
                                              (Attendance, "activity_id"), (Signup, "activity_id"))
                   for ix in _drop_secondary_indexes(conn, model, keep_leading=in_order)]
        self._insert(conn, Unit, ("id", "parent_id", "level", "name", "code", "path"), self.units)
        self._insert(conn, Volunteer, VOLUNTEER_COLUMNS, self._volunteer_rows())
        self._insert(conn, Team, TEAM_COLUMNS, self._team_rows())
        self._insert(conn, Membership, MEMBERSHIP_COLUMNS, self._membership_rows())
        themes = dict(conn.execute(select(Theme.code, Theme.id)).all())
        self.busy = [0] * (self.volunteer_count + 1)
        self.devices = [_device(vid, self.seed) for vid in range(self.volunteer_count + 1)]
        self.reserved: dict[int, list[tuple[int, int]]] = {}
        for spec in self.specs:
            for vid in spec.forced:
                self.reserved.setdefault(vid, []).append((spec.start, spec.end))
        images = demo_images()
        photos: list[tuple] = []
        counts = {"attendances": 0, "signups": 0}
        active_months = summary.ActiveMonthsBuilder(self.units)
        for i in range(0, len(self.specs), 1000):
            activity_rows, attendance_rows, signup_rows = [], [], []
            for spec in self.specs[i: i + 1000]:
                rows = self._attendances(spec) if spec.status in ("closed", "open") else []
                live = [r for r in rows if r[ATT_VOIDED] is None]
                if spec.status == "closed":
                    active_months.add(spec.start, themes[spec.theme], spec.team.unit_id, [r[ATT_VOLUNTEER] for r in live])
                created = self._activity_created(spec)
                if spec.recruit is not None:
                    signup_rows.extend(self._signup_rows(spec, [r[ATT_VOLUNTEER] for r in live], created))
                activity_rows.append(self._activity_row(spec, themes[spec.theme], len(live),
                                                        sum(r[ATT_MINUTES] for r in live), created)
                                     + (sum(1 for r in live if r[ATT_METHOD] in LIVE_METHODS),))
                attendance_rows.extend(rows)
                for n in range(spec.photos):
                    image, thumb, width, height = images[(spec.id + n) % len(images)]
                    photos.append((spec.id, spec.team.leaders[0], created + 60 * (n + 1), width, height, len(image),
                                   image, thumb))
            self._insert(conn, Activity, ACTIVITY_COLUMNS, activity_rows)
            self._insert(conn, Attendance, ATTENDANCE_COLUMNS, attendance_rows)
            self._insert(conn, Signup, SIGNUP_COLUMNS, signup_rows)
            counts["attendances"] += len(attendance_rows)
            counts["signups"] += len(signup_rows)
        _recreate_indexes(conn, dropped)
        # live_count was written with each activity; active_months was collected while the rows were made
        # (summary.ActiveMonthsBuilder: what summary.rebuild() derives, without reading the rows back;
        # tests/test_seed.py compares the two).
        self._insert(conn, ActiveMonths, ("scope", "scope_id", "era", "volunteer_id", "months"), active_months.rows())
        summary.create_triggers(conn)
        photo_rows = [(n, a, u, ts(c), w, h, s, img, th) for n, (a, u, c, w, h, s, img, th) in enumerate(photos, 1)]
        self._insert(conn, Photo, PHOTO_COLUMNS, photo_rows)
        self.report.update(activities=len(self.specs), attendances=counts["attendances"], signups=counts["signups"],
                           photos=len(photo_rows))

    def _insert(self, conn: Connection, model, columns: tuple[str, ...], rows) -> None:
        """Core executemany of an INSERT compiled from the model's table, in chunks."""
        sql = _insert_sql(conn, model, columns)
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= self.scale.chunk:
                conn.exec_driver_sql(sql, batch)
                self.progress.update(len(batch))
                batch = []
        if batch:
            conn.exec_driver_sql(sql, batch)
            self.progress.update(len(batch))


def seed_database(engine: Engine, *, scale: Scale, seed: int, now: int) -> dict:
    """Plan the city, then write it in one transaction; returns counts and the demo logins."""
    from werkzeug.security import check_password_hash

    if not check_password_hash(DEMO_PASSWORD_HASH, DEMO_PASSWORD):
        raise click.ClickException("DEMO_PASSWORD_HASH does not match DEMO_PASSWORD")
    with Session(engine) as session:
        schema.ensure_reference_data(session)
        session.commit()
    seeder = Seeder(engine, scale, seed, now)
    seeder.plan_units()
    seeder.plan_teams()
    seeder.plan_memberships()
    seeder.plan_activities()
    seeder.next_attendance_id = seeder.next_signup_id = 1
    estimate = (len(seeder.units) + 2 * seeder.volunteer_count + len(seeder.teams) + len(seeder.specs)
                + scale.attendances)
    with engine.connect() as conn:
        restore = _tune_sqlite(conn) if seeder.sqlite else None
        try:
            with conn.begin():
                with click.progressbar(length=estimate, label="Seeding the demo city") as bar:
                    seeder.write(conn, bar)
                _after_insert(conn, seeder.sqlite)
        finally:
            if restore:
                restore()
    if seeder.sqlite:
        with engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    report = seeder.report
    team, second = seeder.demo_teams
    report["logins"] = demo_logins([team.name, second.name], DISTRICTS[0], team.name)
    return report


def _insert_sql(conn: Connection, model, columns: tuple[str, ...]) -> str:
    """The dialect's positional INSERT for these columns of the model's table."""
    dialect = conn.dialect
    if dialect.paramstyle not in ("qmark", "format", "numeric"):
        dialect = type(dialect)(paramstyle="format")
    compiled = model.__table__.insert().compile(dialect=dialect, column_keys=list(columns))
    if tuple(compiled.positiontup) != columns:
        raise RuntimeError(f"column order of {model.__tablename__} differs: {compiled.positiontup}")
    return compiled.string


class Timestamps:
    """UTC epoch seconds → the value the driver stores, by two table lookups: day + time of day.

    On SQLite the text SQLAlchemy itself writes ("2026-03-05 01:30:00.000000", checked against its bind
    processor), elsewhere an aware datetime (day) plus a timedelta (time of day). Hot loops inline
    `days[s // 86400 - first_day] + times[s % 86400]` instead of calling `ts`.
    """

    def __init__(self, sqlite: bool, now: int):
        """Tables for six years back to two months ahead of now."""
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        self.first_day = now // 86400 - 6 * 366
        span = range(self.first_day, now // 86400 + 60)
        if sqlite:
            from sqlalchemy.dialects import sqlite as sqlite_dialect
            from sqlmodel.sql.sqltypes import UTCDateTime

            dialect = sqlite_dialect.dialect()
            processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
            sample = epoch + timedelta(seconds=1_772_668_923)
            if processor(sample) != sample.strftime("%Y-%m-%d %H:%M:%S.%f"):
                raise RuntimeError("SQLAlchemy's SQLite datetime format changed; update seed.Timestamps")
            self.days = [(epoch + timedelta(days=d)).strftime("%Y-%m-%d ") for d in span]
            self.times = [f"{h:02d}:{m:02d}:{s:02d}.000000" for h in range(24) for m in range(60) for s in range(60)]
        else:
            self.days = [epoch + timedelta(days=d) for d in span]
            self.times = [timedelta(seconds=s) for s in range(86400)]

    def __call__(self, s: int):
        """The stored form of epoch second s."""
        return self.days[s // 86400 - self.first_day] + self.times[s % 86400]


def _tune_sqlite(conn: Connection):
    """For this connection only, while seeding: a bigger page cache, and foreign keys checked in one pass
    before commit (`_after_insert`) instead of three look-ups per attendance row. Returns the undo."""
    raw = conn.connection.driver_connection
    cache, keys = raw.execute("PRAGMA cache_size").fetchone()[0], raw.execute("PRAGMA foreign_keys").fetchone()[0]
    raw.execute("PRAGMA cache_size=-65536")  # 64 MiB
    raw.execute("PRAGMA foreign_keys=OFF")

    def undo() -> None:
        """Put the connection back as it was."""
        raw.execute(f"PRAGMA cache_size={int(cache)}")
        raw.execute(f"PRAGMA foreign_keys={'ON' if keys else 'OFF'}")

    return undo


def _drop_secondary_indexes(conn: Connection, model, *, keep_leading: str) -> list:
    """Non-unique indexes are cheaper to build once after the bulk insert than to maintain row by row,
    except those led by keep_leading, the column rows arrive ordered by: they only grow at their end."""
    indexes = [ix for ix in model.__table__.indexes if not ix.unique and ix.columns[0].name != keep_leading]
    for index in indexes:
        index.drop(conn)
    return indexes


def _recreate_indexes(conn: Connection, indexes: list) -> None:
    """Build the indexes dropped by _drop_secondary_indexes, from the model definitions."""
    for index in indexes:
        index.create(conn)


def _after_insert(conn: Connection, sqlite: bool) -> None:
    """Check SQLite's foreign keys; let PostgreSQL's sequences continue after the explicit ids; fresh statistics."""
    if sqlite:
        broken = _foreign_key_problems(conn)
        if broken:  # rolls the whole seed back
            raise RuntimeError(f"seed-demo wrote rows that fail the foreign key check, e.g. {broken[:5]}")
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")
        return
    for model in (Unit, Volunteer, Team, Membership, Activity, Attendance, Signup, Photo):
        table = model.__tablename__
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)"
        )
    conn.exec_driver_sql("ANALYZE")


def _foreign_key_problems(conn: Connection) -> list:
    """SQLite's foreign key check of every seeded table, with a shortcut for the 1.2 million attendances.

    The seed numbers activities and volunteers 1..N without gaps; when the tables confirm that (count equals
    the largest id), an attendance's references are valid exactly when they lie in 1..N: one scan instead
    of three index look-ups per row (sign-ups likewise). Otherwise the full check runs.
    """
    broken = []
    for model in (Unit, Volunteer, Team, Membership, Activity, Photo):
        broken += conn.exec_driver_sql(f'PRAGMA foreign_key_check("{model.__tablename__}")').fetchall()
    activities, last_activity = conn.exec_driver_sql("SELECT count(*), max(id) FROM activity").one()
    volunteers, last_volunteer = conn.exec_driver_sql("SELECT count(*), max(id) FROM volunteer").one()
    if activities != last_activity or volunteers != last_volunteer:
        return broken + conn.exec_driver_sql('PRAGMA foreign_key_check("attendance")').fetchall() \
            + conn.exec_driver_sql('PRAGMA foreign_key_check("signup")').fetchall()
    outside = conn.exec_driver_sql(
        "SELECT id, activity_id, volunteer_id, recorded_by_id FROM attendance WHERE activity_id NOT BETWEEN 1 AND ? "
        "OR volunteer_id NOT BETWEEN 1 AND ? OR (recorded_by_id IS NOT NULL AND recorded_by_id NOT BETWEEN 1 AND ?) "
        "LIMIT 5", (last_activity or 0, last_volunteer or 0, last_volunteer or 0)
    ).fetchall()
    outside_signups = conn.exec_driver_sql(
        "SELECT id, activity_id, volunteer_id, decided_by_id FROM signup WHERE activity_id NOT BETWEEN 1 AND ? "
        "OR volunteer_id NOT BETWEEN 1 AND ? OR (decided_by_id IS NOT NULL AND decided_by_id NOT BETWEEN 1 AND ?) "
        "LIMIT 5", (last_activity or 0, last_volunteer or 0, last_volunteer or 0)
    ).fetchall()
    return (broken + [("attendance",) + tuple(row) for row in outside]
            + [("signup",) + tuple(row) for row in outside_signups])
