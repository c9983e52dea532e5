"""A cap on request bodies: 413 `payload_too_large` before a byte too many is read.

A declared Content-Length over the cap is refused at once; a body without one
(chunked) is counted as it arrives and refused when it crosses the cap. (FastAPI's own
`max_body_size` answers a declared oversize body with text/plain, not problem+json.)
"""

import json

from asgi_correlation_id import correlation_id
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the route's body read: FastAPI passes HTTPExceptions on,
                    # and the problem handler answers it as 413 problem+json.
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counted, send)

    def _detail(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "type": PROBLEM_TYPE_BASE + "payload_too_large",
                "title": "Content Too Large",
                "status": 413,
                "detail": self._detail(),
                "code": "payload_too_large",
                "requestId": correlation_id.get(),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
