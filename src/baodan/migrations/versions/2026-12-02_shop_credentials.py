"""channels: shop credentials (secrets sealed), sync state, stock allocation, shipments, call log, order
supersessions (platform-side splits and merges)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 14:20:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import baodan.core.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TIME = baodan.core.db.UtcDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('shop_credential',
    sa.Column('shop_id', _ID, nullable=False),
    sa.Column('app_key', sa.String(length=128), nullable=False),
    sa.Column('platform_shop_id', sa.String(length=64), nullable=True),
    sa.Column('base_url', sa.String(length=300), nullable=True),
    sa.Column('secrets_sealed', sa.String(length=4000), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_shop_credential'))
    )
    op.create_table('channel_cursor',
    sa.Column('shop_id', _ID, nullable=False),
    sa.Column('synced_to', _TIME, nullable=False),
    sa.Column('last_run_at', _TIME, nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_channel_cursor'))
    )
    op.create_table('channel_fetch',
    sa.Column('shop_id', _ID, nullable=False),
    sa.Column('platform_order_id', sa.String(length=64), nullable=False),
    sa.Column('requested_at', _TIME, nullable=False),
    sa.Column('next_at', _TIME, nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('shop_id', 'platform_order_id', name=op.f('pk_channel_fetch'))
    )
    op.create_index(op.f('ix_channel_fetch_next_at'), 'channel_fetch', ['next_at'], unique=False)
    op.create_table('channel_outbox',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('shop_id', _ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=False),
    sa.Column('payload', _JSON, nullable=False),
    sa.Column('created_at', _TIME, nullable=False),
    sa.Column('next_at', _TIME, nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('done_at', _TIME, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_outbox')),
    sa.UniqueConstraint('kind', 'ref', name='uq_channel_outbox_kind_ref')
    )
    op.create_index('ix_channel_outbox_due', 'channel_outbox', ['done_at', 'next_at'], unique=False)
    op.create_table('channel_stock',
    sa.Column('shop_id', _ID, nullable=False),
    sa.Column('platform_sku_id', sa.String(length=64), nullable=False),
    sa.Column('pushed_qty', sa.Integer(), nullable=False),
    sa.Column('pushed_at', _TIME, nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('shop_id', 'platform_sku_id', name=op.f('pk_channel_stock'))
    )
    op.create_table('channel_allocation',
    sa.Column('sku_id', _ID, nullable=False),
    sa.Column('shop_id', _ID, nullable=False),
    sa.Column('percent', sa.Integer(), nullable=True),
    sa.Column('cap', sa.Integer(), nullable=True),
    sa.Column('set_aside', sa.Integer(), nullable=True),
    sa.Column('updated_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('sku_id', 'shop_id', name=op.f('pk_channel_allocation'))
    )
    op.create_table('channel_carrier',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('platform_code', sa.String(length=32), nullable=False),
    sa.Column('updated_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('channel', 'carrier_code', name=op.f('pk_channel_carrier'))
    )
    op.create_table('shipment',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('order_id', _ID, nullable=False),
    sa.Column('shop_id', _ID, nullable=False),
    sa.Column('warehouse_id', _ID, nullable=True),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('waybill_no', sa.String(length=64), nullable=False),
    sa.Column('shipped_at', _TIME, nullable=False),
    sa.Column('written_back_at', _TIME, nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment')),
    sa.UniqueConstraint('carrier_code', 'waybill_no', name='uq_shipment_waybill')
    )
    op.create_index(op.f('ix_shipment_order_id'), 'shipment', ['order_id'], unique=False)
    op.create_table('channel_call',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('at', _TIME, nullable=False),
    sa.Column('shop_id', _ID, nullable=False),
    sa.Column('method', sa.String(length=100), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('request', sa.String(length=2000), nullable=True),
    sa.Column('response', sa.String(length=2000), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_call'))
    )
    op.create_index(op.f('ix_channel_call_at'), 'channel_call', ['at'], unique=False)
    op.create_table('order_supersede',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('platform_order_id', sa.String(length=64), nullable=False),
    sa.Column('by_order_id', _ID, nullable=False),
    sa.PrimaryKeyConstraint('channel', 'platform_order_id', name=op.f('pk_order_supersede'))
    )
    with op.batch_alter_table('sku_mapping', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform_product_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sku_mapping', schema=None) as batch_op:
        batch_op.drop_column('platform_product_id')
    for index, table in (('ix_channel_call_at', 'channel_call'), ('ix_shipment_order_id', 'shipment'),
                         ('ix_channel_outbox_due', 'channel_outbox'), ('ix_channel_fetch_next_at', 'channel_fetch')):
        op.drop_index(op.f(index), table_name=table)
    for table in ('order_supersede', 'channel_call', 'shipment', 'channel_carrier', 'channel_allocation', 'channel_stock', 'channel_outbox',
                  'channel_fetch', 'channel_cursor', 'shop_credential'):
        op.drop_table(table)
