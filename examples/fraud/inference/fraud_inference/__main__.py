"""`python -m fraud_inference [--host H]`: serve the API on $PORT."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from .app import create_app
from .config import ConfigError, from_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fraud_inference", description=__doc__)
    parser.add_argument("--host", default="0.0.0.0", help="address to bind (default: all, as in a container)")
    args = parser.parse_args(argv)
    try:
        settings = from_env()
    except ConfigError as e:
        print(f"inference: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host=args.host, port=settings.port, log_level=settings.log_level,
                access_log=settings.log_level == "debug")
    return 0


if __name__ == "__main__":
    sys.exit(main())
