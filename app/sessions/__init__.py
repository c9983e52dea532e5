from app.sessions import routes, schemas

__all__ = ["routes", "schemas"]
