"""Request dependencies shared by the routers (Annotated aliases)."""

from typing import Annotated

from fastapi import Depends, Request

from app.convex.gateway import ConvexGateway


def get_gateway(request: Request) -> ConvexGateway:
    return request.app.state.gateway


Gateway = Annotated[ConvexGateway, Depends(get_gateway)]
