"""The helpdesk plugin's Sanic app: builds its services when the server starts and mounts the
web modules (ticket API, sign-in, console, incidents, reports, health) over them."""

from __future__ import annotations

from typing import Any, Optional

from redis.asyncio import Redis
from sanic import Sanic

from helpdesk_plugin.web import api, auth, console, errors, health, incidents, reports
from helpdesk_plugin.web.routes import mount
from recoverydesk import logs
from recoverydesk import settings as settings_module
from recoverydesk.services.bootstrap import HelpdeskServices
from recoverydesk.settings import Settings

ROUTE_TABLES = (health.ROUTES, auth.ROUTES, api.ROUTES, incidents.ROUTES, reports.ROUTES, console.ROUTES)


def create_app(settings: Settings, redis: Optional[Redis] = None, name: str = "recoverydesk_helpdesk") -> Sanic:
    """``redis`` lets a test share its client; the services are built on the server's own loop."""
    app = Sanic(name, configure_logging=False)  # Sanic's own lines go through our handler too (recoverydesk.logs)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.FALLBACK_ERROR_FORMAT = "json"

    @app.before_server_start
    async def start_services(app: Sanic, _loop: Any) -> None:
        app.ctx.services = HelpdeskServices.build(settings, redis)
        await app.ctx.services.start()

    @app.before_server_stop
    async def stop_alerts(app: Sanic, _loop: Any) -> None:
        await app.ctx.services.stop_alerts()

    @app.after_server_stop
    async def stop_services(app: Sanic, _loop: Any) -> None:
        await app.ctx.services.stop()

    errors.mount(app)
    health.mount_middleware(app)
    app.register_middleware(console.console_headers, "response")
    for routes in ROUTE_TABLES:
        mount(app, routes, auth.guarded)
    return app


def main() -> None:
    settings = settings_module.load()
    logs.configure(settings.log_format)
    app = create_app(settings)
    app.run(host=settings.helpdesk_host, port=settings.helpdesk_port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
