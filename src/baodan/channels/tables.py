"""Tables of channels: a shop's platform credentials (secrets sealed, write-only through the API)."""

from sqlalchemy import Column, String, Table

from baodan.core.db import BigIntPK, UtcDateTime, metadata

shop_credential = Table(
    "shop_credential", metadata,
    Column("shop_id", BigIntPK, primary_key=True),
    Column("app_key", String(128), nullable=False),  # shown; identifies the app, not a secret
    Column("platform_shop_id", String(64)),
    Column("secrets_sealed", String(4000), nullable=False),  # app secret, tokens: sealed like PII
    Column("updated_by", String(100), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
