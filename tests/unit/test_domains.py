"""Each domain package declares its own facts beside its routes (app/http/domain.py), and the app
finds every router from the one list (app/domains.py)."""

from fastapi.routing import APIRoute

from app.domains import DOMAINS
from app.main import create_app


def own_routes(domain) -> list[APIRoute]:
    return [r for router in domain.routers for r in router.routes if isinstance(r, APIRoute) and r.include_in_schema]


def test_every_tag_an_operation_carries_is_declared_by_a_domain():
    """Mostly its own; the live streams and an event's registration count carry another's."""
    declared = {tag for domain in DOMAINS for tag in domain.tags}
    for domain in DOMAINS:
        for route in own_routes(domain):
            assert route.tags and set(route.tags) <= declared, (route.operation_id, route.tags)


def test_a_domains_examples_name_only_its_own_operations():
    for domain in DOMAINS:
        own = {route.operation_id for route in own_routes(domain)}
        examples = domain.examples
        named = set(examples.parameters) | set(examples.bodies) | set(examples.try_it_out)
        assert named <= own, (list(domain.tags), named - own)


def test_a_domain_lists_the_ids_its_resources_feed():
    for domain in DOMAINS:
        assert set(domain.resources.values()) <= set(domain.listed_by) | {"categoryId"}, list(domain.tags)


def test_every_tag_is_declared_once_and_every_operation_is_in_the_document():
    tags = [tag for domain in DOMAINS for tag in domain.tags]
    assert len(tags) == len(set(tags))
    document = create_app().openapi()
    declared = {route.operation_id for domain in DOMAINS for route in own_routes(domain)}
    documented = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert declared == documented
