"""channels: access-token lifetimes (refreshed before they expire), a per-shop call rate, and the update
time a push stated for an order to fetch (a deep fetch queue is read by the order list from there)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import baodan.core.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_TIME = baodan.core.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('shop_credential', schema=None) as batch_op:
        # when the sealed access token stops working, and when the refresh token does (NULL: not known)
        batch_op.add_column(sa.Column('token_expires_at', _TIME, nullable=True))
        batch_op.add_column(sa.Column('refresh_expires_at', _TIME, nullable=True))
        # the shop's granted call rate where the platform raised it above the adapter's default (NULL: default)
        batch_op.add_column(sa.Column('calls_per_second', sa.Float(), nullable=True))
    with op.batch_alter_table('channel_fetch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('channel_fetch', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
    with op.batch_alter_table('shop_credential', schema=None) as batch_op:
        for column in ('calls_per_second', 'refresh_expires_at', 'token_expires_at'):
            batch_op.drop_column(column)
