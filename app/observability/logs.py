"""Logging with the request id on every line (X-Request-ID, asgi-correlation-id).

Secrets never reach a log line: a filter on the handler masks bearer tokens, JWTs,
API keys (`mp_...`), `Convex <admin key>` headers and the configured secrets
themselves, wherever a message or its arguments carry them.
"""

import logging
import logging.config
import re
from collections.abc import Iterable
from typing import IO, Any, Literal

MASK = "[redacted]"
_PATTERNS = [
    # A credential after the scheme word: long enough to be one (so "convex query" stays legible).
    re.compile(r"(?i)\b(bearer|convex)\s+[A-Za-z0-9._~+/=|:-]{16,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
    re.compile(r"\bmp_[A-Za-z0-9_-]+"),
]


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 8]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: f"{m.group(1)} {MASK}" if m.lastindex else MASK, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        # Format once, then mask: secrets can hide in args as well as in the message.
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def configure_logging(
    level: str,
    *,
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
    log_format: Literal["console", "json"] = "console",
) -> None:
    # What no line here shows is not gathered for every record: the caller's file and line, the
    # thread and the process (the "Optimization" section of the logging documentation).
    logging._srcfile = None  # documented, though underscored
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler: dict[str, Any] = {
        "class": "logging.StreamHandler",
        "filters": ["request_id", "redact"],
        "formatter": log_format,
    }
    if stream is not None:
        handler["stream"] = stream
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {
                # The id whole, as the answer, the problem body and Convex's log carry it: the
                # filter cuts it to `uuid_length` characters when given one, and a caller's UUID
                # may be hyphenated, in braces or a URN (longer than 32).
                "request_id": {"()": "asgi_correlation_id.CorrelationIdFilter", "default_value": "-"},
                "redact": {"()": RedactSecrets, "secrets": list(secrets)},
            },
            "formatters": {
                "console": {"format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"},
                # One JSON object a line: the message, and every `extra` field of the record.
                "json": {
                    "()": "pythonjsonlogger.orjson.OrjsonFormatter",  # the same lines, encoded by orjson
                    "fmt": "%(asctime)s %(levelname)s %(correlation_id)s %(name)s %(message)s",
                    "rename_fields": {"asctime": "time", "levelname": "level", "correlation_id": "request_id"},
                    "timestamp": False,
                },
            },
            "handlers": {"console": handler},
            "loggers": {
                "app": {"level": level},
                "uvicorn.error": {"level": level},
                "uvicorn.access": {"level": "WARNING"},
            },
            "root": {"handlers": ["console"], "level": "WARNING"},
        }
    )
