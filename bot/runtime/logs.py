"""Logging that never shows the bot token.

httpx logs every request URL at INFO, and a Bot API URL contains the token; exceptions from
the HTTP layer can carry the URL too. So: httpx is quietened, and every formatted line (message
and traceback) is scrubbed of the token before it is written.
"""

from __future__ import annotations

import logging
import re
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Anything shaped like a bot token, in case one reaches a log by another way.
TOKEN_SHAPE = re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{20,}\b")


class RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__(FORMAT)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self.secrets:
            line = line.replace(secret, "[REDACTED]")
        return TOKEN_SHAPE.sub("[REDACTED]", line)


def setup_logging(secrets: list[str], level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
