"""waybills: carrier accounts (secrets sealed), orders waiting for a number, the numbers obtained ahead of
printing, and the log of calls to e-waybill services

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 18:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import baodan.core.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TIME = baodan.core.db.UtcDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('carrier_account',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('adapter', sa.String(length=16), nullable=False),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('platform_code', sa.String(length=32), nullable=True),
    sa.Column('app_key', sa.String(length=128), nullable=False),
    sa.Column('secrets_sealed', sa.String(length=4000), nullable=False),
    sa.Column('base_url', sa.String(length=300), nullable=True),
    sa.Column('sender', _JSON, nullable=False),
    sa.Column('daily_capacity', sa.Integer(), nullable=True),
    sa.Column('low_water', sa.Integer(), nullable=False),
    sa.Column('refill_batch', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('last_refill_at', _TIME, nullable=True),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_account')),
    sa.UniqueConstraint('name', name=op.f('uq_carrier_account_name'))
    )
    op.create_table('waybill_request',
    sa.Column('order_id', _ID, nullable=False),
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('requested_at', _TIME, nullable=False),
    sa.Column('next_at', _TIME, nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_waybill_request'))
    )
    op.create_index('ix_waybill_request_due', 'waybill_request', ['account_id', 'next_at'], unique=False)
    op.create_table('waybill',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('order_id', _ID, nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('waybill_no', sa.String(length=64), nullable=False),
    sa.Column('sort_code', sa.String(length=100), nullable=True),
    sa.Column('package_center_code', sa.String(length=64), nullable=True),
    sa.Column('package_center_name', sa.String(length=100), nullable=True),
    sa.Column('parent_waybill_no', sa.String(length=64), nullable=True),
    sa.Column('print_sealed', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('issued_at', _TIME, nullable=False),
    sa.Column('taken_at', _TIME, nullable=True),
    sa.Column('cancel_reason', sa.String(length=200), nullable=True),
    sa.Column('cancel_requested_at', _TIME, nullable=True),
    sa.Column('cancel_next_at', _TIME, nullable=True),
    sa.Column('cancel_attempts', sa.Integer(), nullable=False),
    sa.Column('cancelled_at', _TIME, nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waybill')),
    sa.UniqueConstraint('carrier_code', 'waybill_no', name='uq_waybill_number')
    )
    op.create_index(op.f('ix_waybill_order_id'), 'waybill', ['order_id'], unique=False)
    op.create_index('ix_waybill_account_state', 'waybill', ['account_id', 'state'], unique=False)
    op.create_index('ix_waybill_cancel_due', 'waybill', ['state', 'cancel_next_at'], unique=False)
    op.create_table('carrier_call',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('at', _TIME, nullable=False),
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('method', sa.String(length=100), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('request', sa.String(length=2000), nullable=True),
    sa.Column('response', sa.String(length=2000), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_call'))
    )
    op.create_index(op.f('ix_carrier_call_at'), 'carrier_call', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_carrier_call_at'), table_name='carrier_call')
    op.drop_table('carrier_call')
    for index in ('ix_waybill_cancel_due', 'ix_waybill_account_state', 'ix_waybill_order_id'):
        op.drop_index(index, table_name='waybill')
    op.drop_table('waybill')
    op.drop_index('ix_waybill_request_due', table_name='waybill_request')
    op.drop_table('waybill_request')
    op.drop_table('carrier_account')
