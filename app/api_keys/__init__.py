from app.api_keys import routes, schemas

__all__ = ["routes", "schemas"]
