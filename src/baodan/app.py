"""The FastAPI application: every package's router under /api/v1, one error handler, /metrics, /healthz, and the
merchant console at / (baodan.web)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from baodan import __version__
from baodan.catalog.api import router as catalog_router
from baodan.channels.api import router as channels_router
from baodan.channels.webhooks import router as webhooks_router
from baodan.core.http import BodySizeLimit, SecurityHeaders, install_error_handlers
from baodan.dashboard.api import events_router
from baodan.dashboard.api import router as dashboard_router
from baodan.exports.api import router as exports_router
from baodan.fulfilment.api import router as fulfilment_router
from baodan.identity.admin_api import router as admin_router
from baodan.identity.api import router as identity_router
from baodan.inventory.api import router as inventory_router
from baodan.orders.api import router as orders_router
from baodan.rules.api import router as rules_router
from baodan.runtime import Runtime
from baodan.waybills.api import router as waybills_router
from baodan.web import install_console

API_PREFIX = "/api/v1"
# Every router served under API_PREFIX (the permission matrix test walks these).
API_ROUTERS = (identity_router, admin_router, catalog_router, inventory_router, orders_router, exports_router,
               channels_router, rules_router, fulfilment_router, waybills_router, dashboard_router)
# Routers outside API_PREFIX that need no login: each verifies its sender's signature instead.
WEBHOOK_ROUTERS = (webhooks_router,)


def create_app(runtime: Runtime, *, with_worker: bool = False, own_runtime: bool = False) -> FastAPI:
    """`with_worker` starts the worker beside the API (embedded mode: a supervised child process);
    `own_runtime` closes the runtime when the app shuts down."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if with_worker:
            runtime.start_worker_process()
        try:
            yield
        finally:
            if own_runtime:
                runtime.close()

    app = FastAPI(title="BaoDan 爆单 ERP", version=__version__, lifespan=lifespan,
                  description="Order intake, stock reservation and fulfilment for live-stream e-commerce.")
    app.state.runtime = runtime
    install_error_handlers(app)
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    for router in WEBHOOK_ROUTERS:
        app.include_router(router)
    app.include_router(events_router)  # the live dashboard's Server-Sent Events, signed in like /api/v1

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    # last: it answers only the paths nothing above serves
    app.state.console_built = install_console(app, runtime.settings.console_dir)

    app.add_middleware(BodySizeLimit, max_bytes=runtime.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
