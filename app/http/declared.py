"""What a route declares, read from FastAPI's dependency tree: one walk for every reader (the
OpenAPI document's capabilities, the HTTP checks' query parameters, where a Convex validation
error's field came from)."""

from collections.abc import Iterator, Sequence
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi.dependencies.models import Dependant
from pydantic import BaseModel


def dependants(root: Dependant) -> Iterator[Dependant]:
    """`root` and every dependency under it, depth first, in declaration order."""
    yield root
    for sub in root.dependencies:
        yield from dependants(sub)


def query_parameters(root: Dependant) -> Iterator[tuple[str, Any]]:
    """(name, annotation) of every query parameter of the operation and of its dependencies
    (pagination's `cursor` and `limit`...); a model given as query parameters names its fields."""
    for dependant in dependants(root):
        for field in dependant.query_params:
            annotation = field.field_info.annotation
            model = _model_of(annotation)
            if model is None:
                yield field.alias, annotation
            else:
                yield from ((f.alias or name, f.annotation) for name, f in model.model_fields.items())


def _model_of(annotation: Any) -> type[BaseModel] | None:
    options = getattr(annotation, "__args__", None) or (annotation,)
    models = [o for o in options if isinstance(o, type) and issubclass(o, BaseModel)]
    return models[0] if models else None


def is_multi_valued(annotation: Any) -> bool:
    """Whether a query parameter takes several values (`list[str]`, optional or annotated)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return is_multi_valued(get_args(annotation)[0])
    if origin is Union or origin is UnionType:
        return any(is_multi_valued(option) for option in get_args(annotation))
    kind = origin or annotation
    return isinstance(kind, type) and issubclass(kind, Sequence | set | frozenset) and not issubclass(kind, str | bytes)
