"""The OpenAPI document as integrators read it, its examples and links, and the docs UI."""
