"""The store's wiring: one botocore client behind every item model."""

from __future__ import annotations

from tests.functional.conftest import Api


def test_every_item_model_uses_the_one_shared_client(api: Api) -> None:
    from parley.adapters.dynamodb import base, items

    api("POST", "/workspaces", body={"name": "Acme"})  # touches five item types
    shared = base.client()
    models = [m for m in vars(items).values() if isinstance(m, type) and issubclass(m, base.Item)]
    assert len(models) >= 10
    for model in models:
        assert model._get_connection().connection.client is shared, model.__name__
