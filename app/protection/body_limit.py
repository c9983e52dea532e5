"""A cap on request bodies: 413 `payload_too_large` before a byte too many is read.

A declared Content-Length over the cap is refused at once; a body without one
(chunked) is counted as it arrives and refused when it crosses the cap. (FastAPI's own
`max_body_size` answers a declared oversize body with text/plain, not problem+json.)
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.middleware import HttpMiddleware
from app.http.problems import Problem, problem_json


class BodyLimitMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
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

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The body is not read: closing the connection spares reading it to find the next request.
        refusal = problem_json(Problem("payload_too_large", self._detail(), headers={"Connection": "close"}))
        await refusal(scope, receive, send)
