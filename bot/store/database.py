"""Engine creation and migrations. SQLite runs in WAL mode so readers never block the writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from bot.store.watchdog import Watchdog

_HERE = Path(__file__).resolve().parent
# Installed from a wheel, the migrations are shipped as bot/store/migrations; in the source tree
# they are the top-level migrations/ folder.
MIGRATIONS = next(
    (
        p
        for p in (_HERE / "migrations", _HERE.parent.parent / "migrations")
        if (p / "env.py").exists()
    ),
    _HERE.parent.parent / "migrations",
)
STATEMENT_TIMEOUT_MS = 10_000  # the longest statement (an export, a quarter's statistics)


def create_database_engine(url: str, busy_timeout_ms: int = 5000, **options: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
            **options,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            connection.isolation_level = None  # transactions are begun below, not by pysqlite
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            # Take the write lock up front: a deferred transaction that reads and then writes
            # fails at once with "database is locked" when another writer is busy, instead of
            # waiting for busy_timeout. Reads (see `reading`) take no lock: in WAL mode they
            # see a snapshot while the bot keeps logging.
            if connection.get_execution_options().get("readonly"):
                connection.exec_driver_sql("BEGIN")
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(
        url,
        # No pre-ping: a ping to a hung server would wait unbounded before the watchdog sees
        # the checkout; a connection that died meanwhile fails its first statement instead.
        pool_recycle=300,
        pool_size=10,
        max_overflow=10,
        pool_timeout=max(1.0, busy_timeout_ms / 1000),
        connect_args=postgres_bounds(busy_timeout_ms, parsed.query.get("options"))
        | options.pop("connect_args", {}),
        **options,
    )
    _watchdog().attach(engine)
    return engine


_WATCHDOG: Watchdog | None = None


def _watchdog() -> Watchdog:
    """One watchdog thread for every PostgreSQL engine of the process."""
    global _WATCHDOG
    if _WATCHDOG is None:
        _WATCHDOG = Watchdog(STATEMENT_TIMEOUT_MS / 1000 + 5)
    return _WATCHDOG


def postgres_bounds(busy_timeout_ms: int, url_options: Any = None) -> dict[str, Any]:
    """Every PostgreSQL call ends in bounded time, even when the server silently drops
    packets (no TCP reset): connecting, each statement (server side), waiting for a lock, and
    the connection itself (TCP keepalive and TCP_USER_TIMEOUT, client side). A hung database
    then costs each caller seconds, not minutes, and frees the threads it held."""
    seconds = max(1, busy_timeout_ms // 1000)
    statement_ms = STATEMENT_TIMEOUT_MS
    given = url_options if isinstance(url_options, str) else " ".join(url_options or ())
    bounds = (
        f"-c statement_timeout={statement_ms} -c lock_timeout={busy_timeout_ms}"
        f" -c idle_in_transaction_session_timeout={4 * statement_ms}"
    )
    return {
        "connect_timeout": seconds,
        "options": f"{given} {bounds}".strip(),  # the URL's own options (a search_path) kept
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
        "tcp_user_timeout": statement_ms + 1000,
    }


def reading(engine: Engine) -> Engine:
    """The engine for long read-only work (statistics, exports) that must not hold up writes."""
    return engine.execution_options(readonly=True)


def schema_is_current(engine: Engine) -> bool:
    """True when the database has every migration applied."""
    heads = set(ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, engine: Engine | None = None) -> None:
    """Bring the schema to the newest migration (what `python -m bot db upgrade` runs)."""
    config = alembic_config(url)
    if engine is None:
        engine = create_database_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
