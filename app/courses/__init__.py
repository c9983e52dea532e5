"""Courses (convex/courses.ts): routes, schemas, and what the API document says of them."""

from app.courses import routes, schemas
from app.http.domain import Domain

DOMAIN = Domain.load(__file__, routes.router)

__all__ = ["DOMAIN", "routes", "schemas"]
