"""Alembic environment: run by `cc-tui db upgrade` with a connection handed in."""

from __future__ import annotations

import warnings

from alembic import context
from sqlmodel import SQLModel

import cc_tui.models  # noqa: F401  (registers every table)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("cc-tui migrations run with a connection from cc_tui.db.migrate")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction(), warnings.catch_warnings():
        # SQLite's batch mode copies a table by reflecting it and the tables its keys point to;
        # the incident table's expression indexes cannot be reflected, and need not be: the
        # copy never touches that table. The warning would only alarm whoever opens a new file.
        warnings.filterwarnings(
            "ignore", message="Skipped unsupported reflection of expression-based index"
        )
        context.run_migrations()


run_migrations_online()
