from app.enrollments import routes, schemas

__all__ = ["routes", "schemas"]
