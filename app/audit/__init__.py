from app.audit import routes, schemas

__all__ = ["routes", "schemas"]
