"""ASGI entry point for servers: ``uvicorn server.asgi:app`` (settings from ``APP_*``)."""

from server.app import create_app
from server.settings import Settings

app = create_app(Settings())
