from app.tickets import routes, schemas

__all__ = ["routes", "schemas"]
