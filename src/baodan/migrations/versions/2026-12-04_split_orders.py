"""fulfilment, third part: split orders (拆单) — a part of a split order names the order it was split from;
a line refunded before shipping (部分退款) is marked; a 抖店/拼多多 e-waybill account may use its shop's session

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import baodan.core.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_TIME = baodan.core.db.UtcDateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        # a part of a split order: the original it was split from (NULL: an order as the platform sent it)
        batch_op.add_column(sa.Column('parent_order_id', _ID, nullable=True))
        batch_op.create_index('ix_sales_order_parent', ['parent_order_id'], unique=False)
    with op.batch_alter_table('carrier_account', schema=None) as batch_op:
        # 抖店/拼多多 e-waybill: the shop whose platform session (access token) the account uses
        batch_op.add_column(sa.Column('shop_id', _ID, nullable=True))
    with op.batch_alter_table('waybill', schema=None) as batch_op:
        # an order's numbers, and a number whatever its courier: without them PostgreSQL scanned every number
        batch_op.create_index('ix_waybill_order', ['order_id'], unique=False)
        batch_op.create_index('ix_waybill_no', ['waybill_no'], unique=False)
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        # 部分退款: the line's refund succeeded before it shipped
        batch_op.add_column(sa.Column('refunded_at', _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('waybill', schema=None) as batch_op:
        batch_op.drop_index('ix_waybill_no')
        batch_op.drop_index('ix_waybill_order')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('refunded_at')
    with op.batch_alter_table('carrier_account', schema=None) as batch_op:
        batch_op.drop_column('shop_id')
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_parent')
        batch_op.drop_column('parent_order_id')
