"""Alembic environment: uses the connection handed over by bot.store.database.upgrade, or the
URL in the Alembic config when run by hand (`alembic -x` is not needed)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bot.store.database import create_database_engine
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = create_database_engine(str(config.get_main_option("sqlalchemy.url")))
    with engine.begin() as fresh:
        run(fresh)


main()
