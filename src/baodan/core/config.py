"""Settings: one object read from BAODAN_* environment variables (and .env), nothing else holds config."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BAODAN_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    # Empty means the embedded default: a SQLite file under data_dir. A plain
    # postgresql://user@host:port/db URL selects PostgreSQL through psycopg 3.
    database_url: str = ""
    # The inbox is what we acknowledged to a platform, so it is fsynced (FULL) by default. NORMAL is an
    # opt-in: in WAL mode a power loss can then drop the last commits that were already acknowledged.
    inbox_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # Group commit: a commit is shared by all intake requests that arrive within this window.
    group_commit_window_ms: float = Field(default=2.0, ge=0, le=100)
    batch_size: int = Field(default=2000, ge=1, le=50_000)
    batch_max_wait_ms: float = Field(default=50.0, ge=0, le=10_000)
    max_orders_per_request: int = 5000
    max_body_bytes: int = 8 * 1024 * 1024
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    # Keys sealing buyers' name/phone/address (identity.pii). Unset: generated into <data_dir>/keys.json.
    pii_keys: SecretStr | None = None  # "k1:<base64 of 32 bytes>,k2:…"
    pii_current_key: str = ""  # the id that seals new data; default the first of pii_keys
    pii_index_key: SecretStr | None = None  # base64, ≥ 32 bytes: the phone number's blind index
    require_2fa_for_admins: bool = False  # owners must log in with a TOTP code
    # Channel sync (in the worker process): incremental pull, detail fetches, write-backs, stock pushes.
    channel_sync: bool = True
    pull_interval_s: float = Field(default=60.0, gt=0)
    pull_lookback_hours: float = Field(default=24.0, gt=0)  # how far back a shop's first pull reads
    stock_push_interval_ms: int = Field(default=200, ge=10)
    # Fulfilment stage (in the worker process): review of reserved orders, once intake has no backlog.
    fulfilment_stage: bool = True
    # orders of one buyer to one address paid within this many minutes ship as one parcel (0: never merged)
    merge_window_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60)
    export_daily_rows: int = Field(default=200_000, ge=0)  # rows one user may export per day (Shanghai)
    redis_url: str = ""  # shared rate-limit counters across API processes (redis://…); empty: in memory
    # Live dashboard (/events): how often each watched view is recomputed and sent, and how many streams
    # one process serves at once (each holds a connection; more are answered 503 with Retry-After).
    dashboard_interval_s: float = Field(default=2.0, ge=0.05, le=60)
    dashboard_max_streams: int = Field(default=200, ge=1, le=10_000)

    # The built web console served at /; unset: frontend/dist of the source checkout (built by make setup).
    console_dir: Path | None = None

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'baodan.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
