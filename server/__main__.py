"""``python -m server``: serve the API with uvicorn on the configured host and port."""

from __future__ import annotations

import logging

import uvicorn

from server.settings import Settings


def main() -> None:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    uvicorn.run(
        "server.asgi:app",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        access_log=settings.environment != "production",
        timeout_graceful_shutdown=30,
    )


if __name__ == "__main__":
    main()
