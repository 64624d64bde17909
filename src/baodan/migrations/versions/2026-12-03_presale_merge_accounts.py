"""fulfilment, second part: presale lines (a promised ship-from date per order line), merged parcels (the
order whose waybill a merged order ships under) and carrier accounts per warehouse (an account's sender
address is one warehouse's); a shipment's waybill unique per order (a merged parcel's orders share one)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 18:00:00
"""

import sqlalchemy as sa
from alembic import op

import baodan.core.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_TIME = baodan.core.db.UtcDateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        # 预售: the line may not ship before this (NULL: ships as soon as it can)
        batch_op.add_column(sa.Column('ship_after', _TIME, nullable=True))
    with op.batch_alter_table('fulfilment', schema=None) as batch_op:
        # a merged order ships in the parcel of this order (its lead); NULL: its own parcel
        batch_op.add_column(sa.Column('parcel_of', _ID, nullable=True))
        batch_op.create_index('ix_fulfilment_parcel_of', ['parcel_of'], unique=False)
    with op.batch_alter_table('carrier_account', schema=None) as batch_op:
        # the warehouse whose parcels this account numbers (NULL: any warehouse)
        batch_op.add_column(sa.Column('warehouse_id', _ID, nullable=True))
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        # a merged parcel's orders each ship under its one waybill
        batch_op.drop_constraint('uq_shipment_waybill', type_='unique')
        batch_op.create_unique_constraint('uq_shipment_waybill_order', ['carrier_code', 'waybill_no', 'order_id'])


def downgrade() -> None:
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_constraint('uq_shipment_waybill_order', type_='unique')
        batch_op.create_unique_constraint('uq_shipment_waybill', ['carrier_code', 'waybill_no'])
    with op.batch_alter_table('carrier_account', schema=None) as batch_op:
        batch_op.drop_column('warehouse_id')
    with op.batch_alter_table('fulfilment', schema=None) as batch_op:
        batch_op.drop_index('ix_fulfilment_parcel_of')
        batch_op.drop_column('parcel_of')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('ship_after')
