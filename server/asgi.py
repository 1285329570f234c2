"""ASGI entry point for servers: ``uvicorn server.asgi:app`` (settings from ``APP_*``).

Each worker process imports this module, so each one sets up its own JSON logging here.
"""

from server.app import create_app
from server.settings import Settings
from server.telemetry.logs import configure_logging

settings = Settings()
configure_logging(settings.log_level, settings.log_format)
app = create_app(settings)
