"""``python -m server [serve|migrate]``: serve the API with uvicorn, or apply migrations."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from server import migrate
from server.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m server")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if args.command == "migrate":
        migrate.upgrade(settings.database_url)
        return
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
