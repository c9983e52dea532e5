from app.registrations import routes, schemas

__all__ = ["routes", "schemas"]
