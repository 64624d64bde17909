"""fulfilment: versioned rule sets, order decisions, one fulfilment row per reserved order, the blacklist,
bin locations and waves

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import baodan.core.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TIME = baodan.core.db.UtcDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('rule_set',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('hook', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', _JSON, nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_set')),
    sa.UniqueConstraint('hook', 'version', name='uq_rule_set_hook_version')
    )
    op.create_table('order_decision',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('order_id', _ID, nullable=False),
    sa.Column('hook', sa.String(length=16), nullable=False),
    sa.Column('rule_set_version', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=True),
    sa.Column('rule_title', sa.String(length=200), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_decision'))
    )
    op.create_index('ix_order_decision_order', 'order_decision', ['order_id', 'id'], unique=False)
    op.create_table('fulfilment',
    sa.Column('order_id', _ID, nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('hold_reason', sa.String(length=64), nullable=True),
    sa.Column('warehouse_id', _ID, nullable=True),
    sa.Column('carrier_code', sa.String(length=32), nullable=True),
    sa.Column('waybill_no', sa.String(length=64), nullable=True),
    sa.Column('wave_id', _ID, nullable=True),
    sa.Column('pick_seq', sa.Integer(), nullable=True),
    sa.Column('weight_g', sa.Integer(), nullable=True),
    sa.Column('scanned', _JSON, nullable=True),
    sa.Column('packed_by', sa.String(length=100), nullable=True),
    sa.Column('packed_at', _TIME, nullable=True),
    sa.Column('release_at', _TIME, nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_fulfilment'))
    )
    op.create_index('ix_fulfilment_stage', 'fulfilment', ['stage', 'order_id'], unique=False)
    op.create_index('ix_fulfilment_wave', 'fulfilment', ['wave_id', 'pick_seq'], unique=False)
    op.create_index('ix_fulfilment_waybill', 'fulfilment', ['waybill_no'], unique=False)
    op.create_table('bin_location',
    sa.Column('sku_id', _ID, nullable=False),
    sa.Column('warehouse_id', _ID, nullable=False),
    sa.Column('location', sa.String(length=32), nullable=False),
    sa.Column('zone', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('sku_id', 'warehouse_id', name=op.f('pk_bin_location'))
    )
    op.create_table('wave',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('warehouse_id', _ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sku_id', _ID, nullable=True),
    sa.Column('zone', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', _TIME, nullable=False),
    sa.Column('picked_at', _TIME, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wave'))
    )
    op.create_index('ix_wave_status', 'wave', ['status', 'warehouse_id'], unique=False)
    op.create_table('blacklist',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=True),
    sa.Column('phone_index', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist')),
    sa.UniqueConstraint('kind', 'value', 'phone_index', name='uq_blacklist_entry')
    )


def downgrade() -> None:
    op.drop_index('ix_wave_status', table_name='wave')
    op.drop_index('ix_fulfilment_waybill', table_name='fulfilment')
    op.drop_index('ix_fulfilment_wave', table_name='fulfilment')
    op.drop_index('ix_fulfilment_stage', table_name='fulfilment')
    op.drop_index('ix_order_decision_order', table_name='order_decision')
    for table in ('wave', 'bin_location', 'blacklist', 'fulfilment', 'order_decision', 'rule_set'):
        op.drop_table(table)
