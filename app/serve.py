"""`python -m app.serve`: the BFF's process, uvicorn with a graceful stop (docs/deploy.md).

On SIGTERM (a rolling restart, a scale-down) the process does not stop taking requests at once,
which would cut the ones a load balancer is sending it before it notices:

1. at once, `/ready` answers 503 (`shutting_down`), and everything else is served as usual;
2. after SHUTDOWN_DRAIN_S, when the load balancer has taken it out, live streams end with an SSE
   `retry:` hint, the listening socket closes, and the requests in flight finish (idle
   keep-alive connections are closed);
3. after at most SHUTDOWN_TIMEOUT_S more, whatever still runs is cancelled, and it exits.

A second SIGTERM, or SIGINT (Ctrl-C), skips the drain.
"""

import logging
import signal
import time
from types import FrameType

import uvicorn

from app.lifecycle import Lifecycle
from app.main import configured_app
from app.settings import Settings, get_settings

log = logging.getLogger("app.serve")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, lifecycle: Lifecycle, drain_s: float) -> None:
        super().__init__(config)
        self.lifecycle = lifecycle
        self.drain_s = drain_s
        self.drain_started_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Runs as a signal handler: it only records the time; `on_tick`, in the event loop, acts.
        if sig == signal.SIGTERM and self.drain_started_at is None and self.drain_s > 0:
            self.drain_started_at = time.monotonic()
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if await super().on_tick(counter):
            return True
        if self.drain_started_at is None:
            return False
        if not self.lifecycle.draining:
            log.info("SIGTERM: draining for %.1f s (/ready answers 503), then stopping", self.drain_s)
            self.lifecycle.drain()
        if time.monotonic() - self.drain_started_at < self.drain_s:
            return False
        log.info("drained: ending live streams, finishing the requests in flight")
        self.lifecycle.end_streams()
        return True


def server(settings: Settings) -> DrainingServer:
    lifecycle = Lifecycle()
    config = uvicorn.Config(
        configured_app(settings, lifecycle),
        host=settings.host,
        port=settings.port,
        log_config=None,  # the app's own logging (app/observability/logs.py)
        server_header=False,
        proxy_headers=True,  # from FORWARDED_ALLOW_IPS only (uvicorn's default: 127.0.0.1)
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
    )
    return DrainingServer(config, lifecycle, settings.shutdown_drain_s)


def main() -> None:
    server(get_settings()).run()


if __name__ == "__main__":
    main()
