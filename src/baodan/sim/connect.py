"""Connect BaoDan's demo shops to a running simulator: each platform's credentials as the simulator
plays them (its config, or its printed defaults), the base URL of the platform's prefix, and courier
codes the simulator takes where a platform numbers its couriers. Used by `baodan channels connect-sim`
and `baodan bench surge --http`."""

from __future__ import annotations

from collections.abc import Iterable

from baodan.channels import carriers, credentials
from baodan.core.db import Database, fetchall
from baodan.identity.pii import PiiCipher
from baodan.sim.config import SimConfig, load_config

NUMBERED_COURIERS = {"ZTO": "1", "YTO": "2", "STO": "3", "YUNDA": "4", "SF": "5"}  # the simulator takes any number


def connect_shops(db: Database, pii: PiiCipher, url: str, *, config: SimConfig | None = None,
                  platforms: Iterable[str] | None = None, calls_per_second: float | None = None,
                  actor: str) -> list[str]:
    """Save the credentials of every shop here that the simulator plays (of `platforms`, default all);
    returns "<shop> (<platform>)" for each one connected."""
    config = config or load_config()
    wanted = set(platforms) if platforms is not None else set(config.platforms)
    with db.read() as s:
        shops = dict(fetchall(s, "SELECT code, id FROM shop"))
    connected = []
    for channel, platform in config.platforms.items():
        if channel in wanted and platform.shop in shops:
            creds = platform.credentials
            credentials.save(db, pii, shop_id=shops[platform.shop], app_key=creds.app_key, app_secret=creds.app_secret,
                             platform_shop_id=creds.shop_id, base_url=f"{url.rstrip('/')}{config.prefix(channel)}",
                             access_token=creds.access_token, refresh_token=creds.refresh_token,
                             extra=dict(creds.extra),
                             calls_per_second=calls_per_second, actor=actor)
            connected.append(f"{platform.shop} ({channel})")
    if connected:
        for channel in ("kuaishou", "pdd"):
            carriers.save(db, channel, NUMBERED_COURIERS, actor=actor)
    return connected
