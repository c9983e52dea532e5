"""A cap on request bodies: 413 `payload_too_large` before a byte too many is read.

A declared Content-Length over the cap is refused at once; a body without one
(chunked) is counted as it arrives and refused when it crosses the cap. (FastAPI's own
`max_body_size` answers a declared oversize body with text/plain, not problem+json.)
Applied to every request by app/http/edge.py.
"""

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Message, Receive

from app.http.problems import Problem, problem_json


class BodyLimit:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def refusal(self, content_length: bytes | None) -> Response | None:
        """The answer to a request whose declared length is over the cap (or not a number)."""
        if content_length is None or (content_length.isdigit() and int(content_length) <= self.max_bytes):
            return None
        # The body is not read: closing the connection spares reading it to find the next request.
        return problem_json(Problem("payload_too_large", self._detail(), headers={"Connection": "close"}))

    def counted(self, receive: Receive) -> Receive:
        """`receive`, refusing the body once more than the cap has arrived."""
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the route's body read: FastAPI passes HTTPExceptions on,
                    # and the problem handler answers it as 413 problem+json.
                    raise HTTPException(413, self._detail())
            return message

        return counted_receive

    def _detail(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."
