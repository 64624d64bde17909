"""identity and security: users, scopes, roles, sessions, API keys, audit log; sealed PII on orders

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 03:05:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import baodan.core.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TIME = baodan.core.db.UtcDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('totp_secret', sa.String(length=200), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', _TIME, nullable=True),
    sa.Column('created_at', _TIME, nullable=False),
    sa.Column('updated_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('user_scope',
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref_id', _ID, nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'kind', 'ref_id', name=op.f('pk_user_scope'))
    )
    op.create_table('app_role',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('permissions', _JSON, nullable=False),
    sa.Column('created_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_app_role'))
    )
    op.create_table('user_session',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', _TIME, nullable=False),
    sa.Column('last_seen_at', _TIME, nullable=False),
    sa.Column('expires_at', _TIME, nullable=False),
    sa.Column('revoked_at', _TIME, nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_user_session'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)
    op.create_table('api_key',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('permissions', _JSON, nullable=False),
    sa.Column('shop_ids', _JSON, nullable=False),
    sa.Column('rate_per_minute', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', _TIME, nullable=False),
    sa.Column('revoked_at', _TIME, nullable=True),
    sa.Column('last_used_at', _TIME, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix'))
    )
    op.create_table('audit_log',
    sa.Column('id', _ID, sa.Identity(always=False), nullable=False),
    sa.Column('at', _TIME, nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('detail', _JSON, nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_actor_action_at', ['actor', 'action', 'at'], unique=False)
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receiver_sealed', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('phone_index', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_sales_order_phone_index', ['phone_index'], unique=False)
    _append_only_audit(op.get_bind().dialect.name == "postgresql")


def _append_only_audit(postgres: bool) -> None:
    """Audit records are facts: the database refuses to change or delete one (the hash chain also shows
    it, for anyone who gets past the trigger)."""
    if postgres:
        op.execute("""CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit_log rows are append-only'; END $$""")
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, 'audit_log rows are append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only() CASCADE")
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_phone_index')
        batch_op.drop_column('phone_index')
        batch_op.drop_column('receiver_sealed')
    op.drop_table('audit_log')
    op.drop_table('api_key')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
    op.drop_table('user_session')
    op.drop_table('app_role')
    op.drop_table('user_scope')
    op.drop_table('app_user')
