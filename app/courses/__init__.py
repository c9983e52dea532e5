from app.courses import routes, schemas

__all__ = ["routes", "schemas"]
