"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 22:05:06.685100
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import baodan.core.db

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # on SQLite the inbox is a file of its own (intake.inbox.SqliteInbox)
        _create_inbox()
    _create_main()
    _immutable_ledger(postgres)


def _create_inbox() -> None:
    op.create_table('inbox_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.BigInteger(), nullable=False),
    sa.Column('platform_order_id', sa.String(length=64), nullable=False),
    sa.Column('platform_status', sa.String(length=16), nullable=False),
    sa.Column('platform_updated_at', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_event')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('inbox_event', schema=None) as batch_op:
        batch_op.create_index('uq_inbox_event_natural_key', ['channel', 'shop_id', 'platform_order_id', 'platform_status', 'platform_updated_at'], unique=True)

    op.create_table('inbox_pending',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_pending'))
    )

    op.create_table('intake_counter',
    sa.Column('shop_id', sa.BigInteger(), nullable=False),
    sa.Column('accepted', sa.BigInteger(), nullable=False),
    sa.Column('duplicates', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_intake_counter'))
    )


def _create_main() -> None:
    op.create_table('intake_cursor',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('last_event_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_intake_cursor'))
    )
    op.create_table('intake_failure',
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('platform_order_id', sa.String(length=64), nullable=False),
    sa.Column('error', sa.String(length=2000), nullable=False),
    sa.Column('failed_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_intake_failure'))
    )
    op.create_table('product',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product')),
    sa.UniqueConstraint('code', name=op.f('uq_product_code'))
    )
    op.create_table('warehouse',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('priority', sa.Integer(), server_default='100', nullable=False),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouse')),
    sa.UniqueConstraint('code', name=op.f('uq_warehouse_code'))
    )
    op.create_table('shop',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('platform_shop_id', sa.String(length=64), nullable=True),
    sa.Column('default_warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('fallback_warehouse_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['default_warehouse_id'], ['warehouse.id'], name=op.f('fk_shop_default_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop')),
    sa.UniqueConstraint('code', name=op.f('uq_shop_code'))
    )
    op.create_table('sku',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('barcode', sa.String(length=64), nullable=True),
    sa.Column('is_bundle', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('price_fen', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('weight_g', sa.Integer(), server_default='0', nullable=False),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_sku_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sku')),
    sa.UniqueConstraint('code', name=op.f('uq_sku_code'))
    )
    op.create_table('bundle_component',
    sa.Column('bundle_sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('component_sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.CheckConstraint('bundle_sku_id <> component_sku_id', name=op.f('ck_bundle_component_not_self')),
    sa.CheckConstraint('qty > 0', name=op.f('ck_bundle_component_qty_positive')),
    sa.ForeignKeyConstraint(['bundle_sku_id'], ['sku.id'], name=op.f('fk_bundle_component_bundle_sku_id_sku')),
    sa.ForeignKeyConstraint(['component_sku_id'], ['sku.id'], name=op.f('fk_bundle_component_component_sku_id_sku')),
    sa.PrimaryKeyConstraint('bundle_sku_id', 'component_sku_id', name=op.f('pk_bundle_component'))
    )
    op.create_table('inventory_retry',
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('requested_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sku_id'], ['sku.id'], name=op.f('fk_inventory_retry_sku_id_sku')),
    sa.PrimaryKeyConstraint('sku_id', name=op.f('pk_inventory_retry'))
    )
    op.create_table('live_session',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('host', sa.String(length=100), nullable=False),
    sa.Column('room_id', sa.String(length=64), nullable=True),
    sa.Column('started_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', baodan.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('featured_sku_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_live_session_shop_id_shop')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_session')),
    sa.UniqueConstraint('shop_id', 'started_at', name=op.f('uq_live_session_shop_id_started_at'))
    )
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_session_shop_id'), ['shop_id'], unique=False)

    op.create_table('sku_mapping',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform_sku_id', sa.String(length=64), nullable=False),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_sku_mapping_shop_id_shop')),
    sa.ForeignKeyConstraint(['sku_id'], ['sku.id'], name=op.f('fk_sku_mapping_sku_id_sku')),
    sa.PrimaryKeyConstraint('shop_id', 'platform_sku_id', name=op.f('pk_sku_mapping'))
    )
    op.create_table('stock_level',
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('on_hand', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('reserved', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('safety_stock', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('updated_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('reserved >= 0 AND reserved <= on_hand', name=op.f('ck_stock_level_reserved_within_on_hand')),
    sa.ForeignKeyConstraint(['sku_id'], ['sku.id'], name=op.f('fk_stock_level_sku_id_sku')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_level_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('sku_id', 'warehouse_id', name=op.f('pk_stock_level'))
    )
    op.create_table('stock_move',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('on_hand_delta', sa.BigInteger(), nullable=False),
    sa.Column('reserved_delta', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('created_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sku_id'], ['sku.id'], name=op.f('fk_stock_move_sku_id_sku')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_move_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_move')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_stock_move_idempotency_key'))
    )
    with op.batch_alter_table('stock_move', schema=None) as batch_op:
        batch_op.create_index('ix_stock_move_sku_wh', ['sku_id', 'warehouse_id', 'id'], unique=False)

    op.create_table('sales_order',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform_order_id', sa.String(length=64), nullable=False),
    sa.Column('platform_status', sa.String(length=16), nullable=False),
    sa.Column('platform_updated_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('anomalies', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('short_sku_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('paid_at', baodan.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('buyer_nick', sa.String(length=100), nullable=True),
    sa.Column('receiver', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('buyer_message', sa.Text(), nullable=True),
    sa.Column('seller_memo', sa.Text(), nullable=True),
    sa.Column('goods_total_fen', sa.BigInteger(), nullable=False),
    sa.Column('shipping_fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('discount_fen', sa.BigInteger(), nullable=False),
    sa.Column('paid_total_fen', sa.BigInteger(), nullable=False),
    sa.Column('live_room_id', sa.String(length=64), nullable=True),
    sa.Column('live_session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reserved_at', baodan.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ingested_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order')),
    sa.UniqueConstraint('channel', 'platform_order_id', name=op.f('uq_sales_order_channel_platform_order_id'))
    )
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index('ix_sales_order_session', ['live_session_id'], unique=False)
        batch_op.create_index('ix_sales_order_shop_paid', ['shop_id', 'paid_at'], unique=False)
        batch_op.create_index('ix_sales_order_state_paid', ['state', 'paid_at'], unique=False)

    op.create_table('order_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False, cache=1000), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_event'))
    )
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.create_index('ix_order_event_order', ['order_id', 'id'], unique=False)

    op.create_table('order_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False, cache=1000), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('platform_line_id', sa.String(length=64), nullable=True),
    sa.Column('platform_sku_id', sa.String(length=64), nullable=True),
    sa.Column('sku_code', sa.String(length=64), nullable=True),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('discount_fen', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_line'))
    )
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_line_order_id'), ['order_id'], unique=False)

    op.create_table('inventory_backlog',
    sa.Column('order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('paid_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('short', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('order_line_id', 'sku_id', name=op.f('pk_inventory_backlog'))
    )
    with op.batch_alter_table('inventory_backlog', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_backlog_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_inventory_backlog_sku_paid', ['sku_id', 'paid_at', 'order_id'], unique=False)

    op.create_table('reservation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False, cache=1000), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('created_at', baodan.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('qty > 0', name=op.f('ck_reservation_qty_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservation'))
    )
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservation_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_reservation_sku_wh', ['sku_id', 'warehouse_id'], unique=False)
        batch_op.create_index('uq_reservation_line_sku', ['order_line_id', 'sku_id'], unique=True)



def _immutable_ledger(postgres: bool) -> None:
    """Ledger moves are facts: the database refuses to change or delete one."""
    if postgres:
        op.execute("""CREATE FUNCTION stock_move_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'stock_move rows are immutable'; END $$""")
        op.execute("CREATE TRIGGER stock_move_immutable BEFORE UPDATE OR DELETE ON stock_move "
                   "FOR EACH ROW EXECUTE FUNCTION stock_move_immutable()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER stock_move_no_{verb.lower()} BEFORE {verb} ON stock_move "
                       "BEGIN SELECT RAISE(ABORT, 'stock_move rows are immutable'); END")


def downgrade() -> None:
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.drop_index('uq_reservation_line_sku')
        batch_op.drop_index('ix_reservation_sku_wh')
        batch_op.drop_index(batch_op.f('ix_reservation_order_id'))

    op.drop_table('reservation')
    with op.batch_alter_table('inventory_backlog', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_backlog_sku_paid')
        batch_op.drop_index(batch_op.f('ix_inventory_backlog_order_id'))

    op.drop_table('inventory_backlog')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_order_id'))

    op.drop_table('order_line')
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.drop_index('ix_order_event_order')

    op.drop_table('order_event')
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_state_paid')
        batch_op.drop_index('ix_sales_order_shop_paid')
        batch_op.drop_index('ix_sales_order_session')

    op.drop_table('sales_order')
    with op.batch_alter_table('stock_move', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_move_sku_wh')

    op.drop_table('stock_move')
    op.drop_table('stock_level')
    op.drop_table('sku_mapping')
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_session_shop_id'))

    op.drop_table('live_session')
    op.drop_table('inventory_retry')
    op.drop_table('bundle_component')
    op.drop_table('sku')
    op.drop_table('shop')
    op.drop_table('warehouse')
    op.drop_table('product')
    op.drop_table('intake_failure')
    op.drop_table('intake_cursor')
    if op.get_bind().dialect.name == "postgresql":
        op.drop_table('intake_counter')
        op.drop_table('inbox_pending')
        op.drop_table('inbox_event')
        op.execute("DROP FUNCTION IF EXISTS stock_move_immutable() CASCADE")
