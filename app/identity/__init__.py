from app.identity import routes, schemas

__all__ = ["routes", "schemas"]
