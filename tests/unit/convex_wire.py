"""What the BFF sent Convex, as the route tests read it."""

import json
import re

import httpx

RECEIPT = re.compile(r"[0-9a-f]{32}")


def sent_body(request: httpx.Request) -> dict:
    """The request's JSON body; a mutation's receipt key (every mutation carries a fresh one,
    app/gateway/client.py) and the id of the request that sent it checked and set aside, so tests
    compare the function's own args."""
    body = json.loads(request.content)
    if request.url.path == "/api/mutation":
        receipt = body["args"].pop("receipt")
        assert RECEIPT.fullmatch(receipt), receipt
        body["args"].pop("requestId", None)
    return body
