"""A webhook receiver to start from (docs/webhooks.md): verifies every delivery's signature with
the `standardwebhooks` library, answers at once, and handles each event once however often it
arrives (deliveries are at least once: deduplicate by `webhook-id`).

    .venv/bin/python -m devtools.webhook_receiver --secret whsec_... [--port 8002]

Under `make run` (WEBHOOK_ALLOW_LOCAL_HTTP=true) create an endpoint for http://127.0.0.1:8002/
with `createWebhook`, start this with the secret it answered, and ping it (`pingWebhook`).
"""

import argparse
import json
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class Receiver:
    """Events by `webhook-id`, each handled once; `handle` is what your integration does with one."""

    def __init__(self, secret: str, handle: Callable[[dict[str, Any]], None]) -> None:
        self._webhook = Webhook(secret)
        self._handle = handle
        self.seen: set[str] = set()  # a real receiver keeps these in its database, for longer than a day

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        try:
            # Checks the signature (any of the space-separated ones) and that the timestamp is
            # within 5 minutes of this clock, which bounds replays.
            event = self._webhook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            return Response(status_code=400)
        if event["id"] not in self.seen:  # a retry or redelivery of an event already handled
            self.seen.add(event["id"])
            self._handle(event)
        return Response(status_code=204)


def app(receive: Callable[[Request], Awaitable[Response]]) -> Starlette:
    return Starlette(routes=[Route("/", receive, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secret", required=True, help="the endpoint's signing secret (whsec_...)")
    parser.add_argument("--port", type=int, default=8002)
    options = parser.parse_args()
    receiver = Receiver(options.secret, lambda event: print(json.dumps(event), flush=True))
    uvicorn.run(app(receiver.receive), host="127.0.0.1", port=options.port, log_level="warning")


if __name__ == "__main__":
    main()
