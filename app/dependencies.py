"""Request dependencies shared by the routers (Annotated aliases)."""

from typing import Annotated

from fastapi import Depends, Request

from app.convex.gateway import ConvexGateway


# Dependencies are `async def` even when they do not await: FastAPI runs plain functions in a
# worker thread, which costs more than the work itself (bench/bff.py).
async def get_gateway(request: Request) -> ConvexGateway:
    return request.app.state.gateway


Gateway = Annotated[ConvexGateway, Depends(get_gateway)]
