from app.events import routes, schemas

__all__ = ["routes", "schemas"]
