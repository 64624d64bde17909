"""channels: a shop's platform credentials, secrets sealed

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 14:20:00
"""

import sqlalchemy as sa
from alembic import op

import baodan.core.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TIME = baodan.core.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('shop_credential',
    sa.Column('shop_id', _ID, nullable=False),
    sa.Column('app_key', sa.String(length=128), nullable=False),
    sa.Column('platform_shop_id', sa.String(length=64), nullable=True),
    sa.Column('secrets_sealed', sa.String(length=4000), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_shop_credential'))
    )


def downgrade() -> None:
    op.drop_table('shop_credential')
