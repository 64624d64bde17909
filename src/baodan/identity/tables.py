"""Tables of identity and security. The audit log is append-only (a database trigger refuses updates and
deletes) and hash-chained (`identity.audit.verify` finds an edited or removed record)."""

from sqlalchemy import Boolean, Column, Identity, Index, Integer, String, Table

from baodan.core.db import BigIntPK, Json, UtcDateTime, metadata

app_user = Table(
    "app_user", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),  # argon2id
    Column("role", String(64), nullable=False),  # a built-in role or an app_role name
    Column("active", Boolean, nullable=False),
    Column("must_change_password", Boolean, nullable=False),
    Column("totp_secret", String(200)),  # sealed like PII; None until 2FA is enrolled
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# What a user may see: shops and/or warehouses. No rows of a kind = every one of that kind.
user_scope = Table(
    "user_scope", metadata,
    Column("user_id", BigIntPK, primary_key=True),
    Column("kind", String(16), primary_key=True),  # shop | warehouse
    Column("ref_id", BigIntPK, primary_key=True),
)

# Custom roles: a name and a set of permissions (built-in roles live in code).
app_role = Table(
    "app_role", metadata,
    Column("name", String(64), primary_key=True),
    Column("title", String(100), nullable=False),
    Column("permissions", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

user_session = Table(
    "user_session", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie value; the value is never stored
    Column("user_id", BigIntPK, nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("ip", String(64)),
    Column("user_agent", String(300)),
)

api_key = Table(
    "api_key", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("prefix", String(16), nullable=False, unique=True),  # shown in lists; the secret is hashed
    Column("secret_hash", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("permissions", Json, nullable=False),
    Column("shop_ids", Json, nullable=False),  # [] = every shop
    Column("rate_per_minute", Integer, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("last_used_at", UtcDateTime),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(100), nullable=False),  # user:<name>, key:<prefix>, system, cli
    Column("action", String(64), nullable=False),  # login, login_failed, pii.reveal, export, stock.adjust, …
    Column("target", String(200)),
    Column("ip", String(64)),
    Column("detail", Json, nullable=False),  # before/after and what else the action needs
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_actor_action_at", "actor", "action", "at"),
)
