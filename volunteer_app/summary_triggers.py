"""Summaries the dashboard reads instead of a million attendances, kept by database triggers.

`activity.live_count` (a closed activity's non-voided attendances recorded live) and `active_months` (per
scope, 60-month era and volunteer, a bitmask of the local months with a counted attendance) are kept by
triggers on attendance and activity, so every writer keeps them. A change re-derives the touched volunteers'
rows; on PostgreSQL under a per-volunteer advisory lock. The triggers are created with the tables (`register`)
and by every migration; bulk loaders drop them, insert, then `rebuild()` and `create_triggers()`.
Details: docs/REPORTS.md.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection

ZONE = "Asia/Shanghai"  # the months are local months of this zone (fixed UTC+8, no summer time)
ZONE_OFFSET_HOURS = 8
ERA_MONTHS = 60  # bits 0..59 of a BIGINT
SCOPE_CITY, SCOPE_THEME, SCOPE_UNIT = 0, 1, 2
LOCK_CLASS = 1919251317  # first key of pg_advisory_xact_lock(class, volunteer_id)
LIVE = "('self_scan','leader_scan')"
LIVE_COUNT = ("SELECT count(*) FROM attendance a WHERE a.activity_id = {} AND a.voided_at IS NULL"
              f" AND a.method IN {LIVE}")

SQLITE_TRIGGERS = ("rv_attendance_live_ins", "rv_attendance_live_upd", "rv_attendance_live_del", "rv_activity_live_upd",
                   "rv_attendance_months_ins", "rv_attendance_months_upd", "rv_attendance_months_del",
                   "rv_activity_months_upd")
POSTGRESQL_TRIGGERS = ("rv_attendance_summary", "rv_activity_summary", "rv_activity_live")


def month_index_sql(dialect: str, column: str = "act.starts_at") -> str:
    """year * 12 + month - 1 of the column's local month, as SQL for the dialect."""
    if dialect == "postgresql":
        local = f"({column} AT TIME ZONE '{ZONE}')"
        return f"(EXTRACT(YEAR FROM {local}) * 12 + EXTRACT(MONTH FROM {local}) - 1)::integer"
    shift = f"'+{ZONE_OFFSET_HOURS} hours'"
    return (f"(CAST(strftime('%Y', {column}, {shift}) AS INTEGER) * 12"
            f" + CAST(strftime('%m', {column}, {shift}) AS INTEGER) - 1)")


def refresh_sql(dialect: str, volunteers: str | None) -> list[str]:
    """DELETE and INSERT that re-derive active_months for the volunteers matching `volunteer_id {volunteers}`
    (every volunteer when None)."""
    where = "a.voided_at IS NULL AND act.status = 'closed'"
    if volunteers is not None:
        where += f" AND a.volunteer_id {volunteers}"
    month = month_index_sql(dialect)
    base = "FROM attendance a JOIN activity act ON act.id = a.activity_id"
    unit = "JOIN unit u0 ON u0.id = act.unit_id"
    parent = f"{unit} JOIN unit u1 ON u1.id = u0.parent_id"
    grand = f"{parent} JOIN unit u2 ON u2.id = u1.parent_id"
    parts = [
        f"SELECT a.volunteer_id AS volunteer_id, {SCOPE_CITY} AS scope, 0 AS scope_id, {month} AS mi {base} WHERE {where}",
        f"SELECT a.volunteer_id, {SCOPE_THEME}, act.theme_id, {month} {base} WHERE {where}",
        f"SELECT a.volunteer_id, {SCOPE_UNIT}, u0.id, {month} {base} {unit} WHERE {where} AND u0.level = 'district'",
        f"SELECT a.volunteer_id, {SCOPE_UNIT}, u1.id, {month} {base} {parent} WHERE {where} AND u1.level = 'district'",
        f"SELECT a.volunteer_id, {SCOPE_UNIT}, u2.id, {month} {base} {grand} WHERE {where} AND u2.level = 'district'",
    ]
    bits = (f"bit_or(CAST(1 AS BIGINT) << mod(src.mi, {ERA_MONTHS}))" if dialect == "postgresql"  # no % for psycopg
            else f"SUM(DISTINCT 1 << (src.mi % {ERA_MONTHS}))")  # distinct powers of two: their sum is their OR
    delete = "DELETE FROM active_months" + (f" WHERE volunteer_id {volunteers}" if volunteers is not None else "")
    insert = (f"INSERT INTO active_months (scope, scope_id, era, volunteer_id, months) "
              f"SELECT src.scope, src.scope_id, src.mi / {ERA_MONTHS}, src.volunteer_id, {bits} "
              f"FROM ({' UNION ALL '.join(parts)}) src "
              f"GROUP BY src.scope, src.scope_id, src.mi / {ERA_MONTHS}, src.volunteer_id")
    return [delete, insert]


def bulk_refresh_sql(dialect: str) -> list[str]:
    """refresh_sql(dialect, None) for a whole database: each activity's local month is computed once,
    and each attendance is fanned out to its scopes by one join with the units' ancestors."""
    bits = (f"bit_or(CAST(1 AS BIGINT) << mod(mi, {ERA_MONTHS}))" if dialect == "postgresql"
            else f"SUM(DISTINCT 1 << (mi % {ERA_MONTHS}))")
    ancestors = " UNION ALL ".join([
        "SELECT u0.id AS unit_id, u0.id AS scope_id FROM unit u0 WHERE u0.level = 'district'",
        "SELECT u0.id, u1.id FROM unit u0 JOIN unit u1 ON u1.id = u0.parent_id WHERE u1.level = 'district'",
        "SELECT u0.id, u2.id FROM unit u0 JOIN unit u1 ON u1.id = u0.parent_id JOIN unit u2 ON u2.id = u1.parent_id"
        " WHERE u2.level = 'district'",
    ])
    era = f"mi / {ERA_MONTHS}"
    return [
        "DELETE FROM active_months",
        f"INSERT INTO active_months (scope, scope_id, era, volunteer_id, months) "
        f"WITH act AS MATERIALIZED (SELECT act.id, act.theme_id, act.unit_id, {month_index_sql(dialect)} AS mi "
        f"FROM activity act WHERE act.status = 'closed'), "
        f"base AS MATERIALIZED (SELECT a.volunteer_id AS v, act.theme_id AS theme, act.unit_id AS unit, act.mi "
        f"FROM attendance a JOIN act ON act.id = a.activity_id WHERE a.voided_at IS NULL), "
        f"anc AS MATERIALIZED ({ancestors}) "
        f"SELECT {SCOPE_CITY}, 0, {era}, v, {bits} FROM base GROUP BY {era}, v "
        f"UNION ALL SELECT {SCOPE_THEME}, theme, {era}, v, {bits} FROM base GROUP BY theme, {era}, v "
        f"UNION ALL SELECT {SCOPE_UNIT}, anc.scope_id, {era}, v, {bits} FROM base JOIN anc ON anc.unit_id = base.unit "
        f"GROUP BY anc.scope_id, {era}, v",
    ]


def _sqlite_ddl() -> list[str]:
    def refresh(volunteers: str) -> str:
        return "; ".join(refresh_sql("sqlite", volunteers)) + ";"

    closed = "EXISTS (SELECT 1 FROM activity WHERE id = {} AND status = 'closed')"
    return [
        f"""CREATE TRIGGER rv_attendance_live_ins AFTER INSERT ON attendance
            WHEN NEW.voided_at IS NULL AND NEW.method IN {LIVE} AND {closed.format('NEW.activity_id')}
            BEGIN UPDATE activity SET live_count = live_count + 1 WHERE id = NEW.activity_id; END""",
        f"""CREATE TRIGGER rv_attendance_live_upd AFTER UPDATE OF voided_at, method, activity_id ON attendance
            WHEN (OLD.voided_at IS NULL AND OLD.method IN {LIVE}) OR (NEW.voided_at IS NULL AND NEW.method IN {LIVE})
            BEGIN
              UPDATE activity SET live_count = live_count - 1
                WHERE id = OLD.activity_id AND status = 'closed' AND OLD.voided_at IS NULL AND OLD.method IN {LIVE};
              UPDATE activity SET live_count = live_count + 1
                WHERE id = NEW.activity_id AND status = 'closed' AND NEW.voided_at IS NULL AND NEW.method IN {LIVE};
            END""",
        f"""CREATE TRIGGER rv_attendance_live_del AFTER DELETE ON attendance
            WHEN OLD.voided_at IS NULL AND OLD.method IN {LIVE}
            BEGIN UPDATE activity SET live_count = live_count - 1 WHERE id = OLD.activity_id AND status = 'closed'; END""",
        f"""CREATE TRIGGER rv_activity_live_upd AFTER UPDATE OF status ON activity
            WHEN NEW.status = 'closed' AND OLD.status <> 'closed'
            BEGIN UPDATE activity SET live_count = ({LIVE_COUNT.format('NEW.id')}) WHERE id = NEW.id; END""",
        f"""CREATE TRIGGER rv_attendance_months_ins AFTER INSERT ON attendance
            WHEN NEW.voided_at IS NULL AND {closed.format('NEW.activity_id')}
            BEGIN {refresh('= NEW.volunteer_id')} END""",
        f"""CREATE TRIGGER rv_attendance_months_upd AFTER UPDATE OF voided_at, volunteer_id, activity_id ON attendance
            WHEN ((OLD.voided_at IS NULL) <> (NEW.voided_at IS NULL) OR OLD.volunteer_id <> NEW.volunteer_id
                  OR OLD.activity_id <> NEW.activity_id)
                 AND ({closed.format('OLD.activity_id')} OR {closed.format('NEW.activity_id')})
            BEGIN {refresh('IN (OLD.volunteer_id, NEW.volunteer_id)')} END""",
        f"""CREATE TRIGGER rv_attendance_months_del AFTER DELETE ON attendance
            WHEN OLD.voided_at IS NULL
            BEGIN {refresh('= OLD.volunteer_id')} END""",
        f"""CREATE TRIGGER rv_activity_months_upd AFTER UPDATE OF status, starts_at, theme_id, unit_id ON activity
            WHEN (OLD.status = 'closed' OR NEW.status = 'closed')
                 AND (OLD.status <> NEW.status OR OLD.starts_at <> NEW.starts_at OR OLD.theme_id <> NEW.theme_id
                      OR OLD.unit_id <> NEW.unit_id)
            BEGIN {refresh('IN (SELECT volunteer_id FROM attendance WHERE activity_id = NEW.id)')} END""",
    ]


def _postgresql_ddl() -> list[str]:
    delete, insert = refresh_sql("postgresql", "= ANY(vids)")
    return [
        f"""CREATE OR REPLACE FUNCTION rv_refresh_active_months(vids integer[]) RETURNS void
            LANGUAGE plpgsql AS $$
            DECLARE v integer;
            BEGIN
              FOR v IN SELECT DISTINCT x FROM unnest(vids) AS x WHERE x IS NOT NULL ORDER BY x LOOP
                PERFORM pg_advisory_xact_lock({LOCK_CLASS}, v);
              END LOOP;
              {delete};
              {insert};
            END $$""",
        f"""CREATE OR REPLACE FUNCTION rv_attendance_summary() RETURNS trigger
            LANGUAGE plpgsql AS $$
            DECLARE old_closed boolean := false; new_closed boolean := false;
            BEGIN
              IF TG_OP <> 'INSERT' THEN
                SELECT status = 'closed' INTO old_closed FROM activity WHERE id = OLD.activity_id FOR NO KEY UPDATE;
                IF old_closed AND OLD.voided_at IS NULL AND OLD.method IN {LIVE} THEN
                  UPDATE activity SET live_count = live_count - 1 WHERE id = OLD.activity_id;
                END IF;
              END IF;
              IF TG_OP = 'INSERT' THEN
                -- A check-in into an open activity already holds a share lock on its row (checkin/service.py);
                -- asking for more here would make concurrent check-ins deadlock. Lock only a closed one.
                SELECT status = 'closed' INTO new_closed FROM activity WHERE id = NEW.activity_id;
                IF new_closed THEN
                  SELECT status = 'closed' INTO new_closed FROM activity WHERE id = NEW.activity_id FOR NO KEY UPDATE;
                END IF;
              ELSIF TG_OP <> 'DELETE' THEN
                SELECT status = 'closed' INTO new_closed FROM activity WHERE id = NEW.activity_id FOR NO KEY UPDATE;
              END IF;
              IF TG_OP <> 'DELETE' THEN
                IF new_closed AND NEW.voided_at IS NULL AND NEW.method IN {LIVE} THEN
                  UPDATE activity SET live_count = live_count + 1 WHERE id = NEW.activity_id;
                END IF;
              END IF;
              IF TG_OP = 'INSERT' THEN
                IF new_closed AND NEW.voided_at IS NULL THEN
                  PERFORM rv_refresh_active_months(ARRAY[NEW.volunteer_id]);
                END IF;
              ELSIF TG_OP = 'DELETE' THEN
                IF OLD.voided_at IS NULL THEN
                  PERFORM rv_refresh_active_months(ARRAY[OLD.volunteer_id]);
                END IF;
              ELSIF (coalesce(old_closed, false) OR coalesce(new_closed, false))
                    AND ((OLD.voided_at IS NULL) <> (NEW.voided_at IS NULL) OR OLD.volunteer_id <> NEW.volunteer_id
                         OR OLD.activity_id <> NEW.activity_id) THEN
                PERFORM rv_refresh_active_months(ARRAY[OLD.volunteer_id, NEW.volunteer_id]);
              END IF;
              RETURN NULL;
            END $$""",
        """CREATE OR REPLACE FUNCTION rv_activity_summary() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM rv_refresh_active_months(ARRAY(SELECT volunteer_id FROM attendance WHERE activity_id = NEW.id));
              RETURN NULL;
            END $$""",
        f"""CREATE OR REPLACE FUNCTION rv_activity_live() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              NEW.live_count := ({LIVE_COUNT.format('NEW.id')});
              RETURN NEW;
            END $$""",
        """CREATE TRIGGER rv_activity_live BEFORE UPDATE OF status ON activity
            FOR EACH ROW WHEN (NEW.status = 'closed' AND OLD.status IS DISTINCT FROM 'closed')
            EXECUTE FUNCTION rv_activity_live()""",
        """CREATE TRIGGER rv_attendance_summary
            AFTER INSERT OR DELETE OR UPDATE OF voided_at, method, volunteer_id, activity_id ON attendance
            FOR EACH ROW EXECUTE FUNCTION rv_attendance_summary()""",
        """CREATE TRIGGER rv_activity_summary AFTER UPDATE OF status, starts_at, theme_id, unit_id ON activity
            FOR EACH ROW WHEN ((OLD.status = 'closed' OR NEW.status = 'closed')
                               AND (OLD.status IS DISTINCT FROM NEW.status OR OLD.starts_at IS DISTINCT FROM NEW.starts_at
                                    OR OLD.theme_id IS DISTINCT FROM NEW.theme_id
                                    OR OLD.unit_id IS DISTINCT FROM NEW.unit_id))
            EXECUTE FUNCTION rv_activity_summary()""",
    ]


def drop_triggers(conn: Connection) -> None:
    """Remove the triggers (bulk loaders; call rebuild() and create_triggers() afterwards)."""
    postgresql = conn.dialect.name == "postgresql"
    for name in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        if postgresql:
            table = "activity" if name.startswith("rv_activity") else "attendance"
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def create_triggers(conn: Connection) -> None:
    """(Re)create the functions and triggers; idempotent. On PostgreSQL also make sure that active_months'
    primary key includes `months` (models.py declares it; Alembic's autogenerate does not render INCLUDE)."""
    drop_triggers(conn)
    postgresql = conn.dialect.name == "postgresql"
    for statement in _postgresql_ddl() if postgresql else _sqlite_ddl():
        conn.exec_driver_sql(statement)
    if postgresql and not conn.exec_driver_sql(
            "SELECT i.indnatts > i.indnkeyatts FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = 'active_months_pkey'").scalar():
        conn.exec_driver_sql("ALTER TABLE active_months DROP CONSTRAINT active_months_pkey, ADD CONSTRAINT"
                             " active_months_pkey PRIMARY KEY (scope, scope_id, era, volunteer_id) INCLUDE (months)")


def rebuild(conn: Connection, *, live_counts: bool = True) -> None:
    """Derive every activity's live_count (unless the loader wrote it) and all of active_months from scratch."""
    if live_counts:
        conn.exec_driver_sql(f"UPDATE activity SET live_count = ({LIVE_COUNT.format('activity.id')})")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE activity, attendance, unit")  # a bulk load leaves no statistics
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    for statement in bulk_refresh_sql(conn.dialect.name):
        conn.exec_driver_sql(statement)


class ActiveMonthsBuilder:
    """The rows of active_months for rows being bulk-loaded (the seed), collected as they are made.

    The same as rebuild() derives from the tables — for every closed activity's non-voided attendances,
    per scope (city, theme, the district the activity's unit lies in) and 60-month era, each volunteer's bitmask
    of local months — but from the rows in memory: a few dictionary updates per attendance instead of reading
    1.2 million rows back and grouping them (~5 s at city scale).
    """

    def __init__(self, units: list[tuple]):
        parent = {u[0]: u[1] for u in units}
        level = {u[0]: u[2] for u in units}
        self.district: dict[int, int | None] = {}
        for unit_id in parent:
            d = unit_id
            while d is not None and level[d] != "district":
                d = parent[d]
            self.district[unit_id] = d
        self.masks: dict[tuple[int, int, int], dict[int, int]] = {}

    def add(self, start: int, theme_id: int, unit_id: int, volunteer_ids: list[int]) -> None:
        local = datetime.fromtimestamp(start, ZoneInfo(ZONE))
        era, month = divmod(local.year * 12 + local.month - 1, ERA_MONTHS)
        bit = 1 << month
        keys = [(SCOPE_CITY, 0, era), (SCOPE_THEME, theme_id, era)]
        if self.district.get(unit_id) is not None:
            keys.append((SCOPE_UNIT, self.district[unit_id], era))
        for key in keys:
            masks = self.masks.setdefault(key, {})
            for volunteer_id in volunteer_ids:
                masks[volunteer_id] = masks.get(volunteer_id, 0) | bit

    def rows(self):
        """(scope, scope_id, era, volunteer_id, months) in key order (the table's primary key)."""
        for key in sorted(self.masks):
            masks = self.masks[key]
            for volunteer_id in sorted(masks):
                yield (*key, volunteer_id, masks[volunteer_id])


def register(metadata: MetaData) -> None:
    """Create the triggers whenever the tables are created (create_all)."""

    @event.listens_for(metadata, "after_create")
    def _after_create(target, connection, **kw):
        if {"activity", "attendance", "active_months", "unit"} <= set(target.tables):
            create_triggers(connection)
