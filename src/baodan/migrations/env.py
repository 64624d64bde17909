"""Alembic environment: the URL comes from BaoDan's settings (or the caller's Config)."""

from alembic import context

import baodan.catalog.tables  # noqa: F401  (register tables on the shared metadata)
import baodan.channels.tables  # noqa: F401
import baodan.fulfilment.tables  # noqa: F401
import baodan.identity.tables  # noqa: F401
import baodan.intake.tables  # noqa: F401
import baodan.inventory.tables  # noqa: F401
import baodan.orders.tables  # noqa: F401
import baodan.waybills.tables  # noqa: F401
from baodan.core.db import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through baodan.migrate.upgrade(), which passes a connection")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
