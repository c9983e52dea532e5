from app.sponsors import routes, schemas

__all__ = ["routes", "schemas"]
