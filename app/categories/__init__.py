from app.categories import routes, schemas

__all__ = ["routes", "schemas"]
