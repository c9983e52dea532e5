"""Logging with the request id on every line (X-Request-ID, asgi-correlation-id)."""

import logging.config


def configure_logging(level: str) -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {
                "request_id": {
                    "()": "asgi_correlation_id.CorrelationIdFilter",
                    "uuid_length": 32,
                    "default_value": "-",
                }
            },
            "formatters": {
                "default": {
                    "format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"
                }
            },
            "handlers": {
                "console": {
                    "class": "logging.StreamHandler",
                    "filters": ["request_id"],
                    "formatter": "default",
                }
            },
            "loggers": {
                "app": {"level": level},
                "uvicorn.error": {"level": level},
                "uvicorn.access": {"level": level},
            },
            "root": {"handlers": ["console"], "level": "WARNING"},
        }
    )
