"""work orders: the open ones paged from partial indexes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

The console lists open orders newest first, all of them or a department's or a
technician's. With `status IN (...)` over a (…, status, id) index the database reads every
open order and sorts; partial indexes on `id` holding only the open orders are read
backwards and stop after a page. A department's orders of any status page on
(department_id, id).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('open','in_progress')"


def upgrade() -> None:
    op.drop_index("ix_work_order_department", table_name="work_order")
    op.drop_index("ix_work_order_assignee", table_name="work_order")
    op.create_index("ix_work_order_department", "work_order", ["department_id", "id"])
    for name, columns in (
        ("ix_work_order_open", ["id"]),
        ("ix_work_order_open_department", ["department_id", "id"]),
        ("ix_work_order_open_assignee", ["assignee_id", "id"]),
    ):
        op.create_index(
            name,
            "work_order",
            columns,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )


def downgrade() -> None:
    for name in ("ix_work_order_open_assignee", "ix_work_order_open_department"):
        op.drop_index(name, table_name="work_order")
    op.drop_index("ix_work_order_open", table_name="work_order")
    op.drop_index("ix_work_order_department", table_name="work_order")
    op.create_index("ix_work_order_assignee", "work_order", ["assignee_id", "status", "id"])
    op.create_index("ix_work_order_department", "work_order", ["department_id", "status", "id"])
