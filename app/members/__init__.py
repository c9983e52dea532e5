from app.members import routes, schemas

__all__ = ["routes", "schemas"]
