"""Products and stock in DynamoDB, with a short-lived read cache."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import ConcurrentUpdate, ProductNotFound
from chalicelib.retry import retry_on_conflict
from chalicelib.store import keys
from chalicelib.store.attributes import from_dynamo, to_dynamo
from chalicelib.store.errors import is_conditional_check_failure
from chalicelib.store.mapping import product_from_item

_BATCH_GET_LIMIT = 100


class DynamoCatalog:
    """The catalog: product data and stock counters, one item per SKU.

    ``get_many`` serves from a per-process cache of ``cache_seconds``; that is
    safe for placement because the placement transaction re-checks each
    product's ``catalog_version`` and the caller refreshes on a mismatch.
    """

    def __init__(
        self,
        client: Any,
        table_name: str,
        cache_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._table = table_name
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, Product]] = {}

    # --- reads ---------------------------------------------------------------

    def get(self, sku: str) -> Product:
        response = self._client.get_item(TableName=self._table, Key=to_dynamo(keys.product(sku)))
        if "Item" not in response:
            raise ProductNotFound("no such product", sku=sku)
        return product_from_item(from_dynamo(response["Item"]))

    def get_many(self, skus: Iterable[str], *, fresh: bool = False) -> dict[str, Product]:
        """The products that exist among ``skus`` (unknown SKUs are absent)."""
        wanted = list(dict.fromkeys(skus))
        now = self._monotonic()
        found: dict[str, Product] = {}
        if not fresh:
            for sku in wanted:
                cached = self._cache.get(sku)
                if cached and now - cached[0] < self._cache_seconds:
                    found[sku] = cached[1]
        missing = [sku for sku in wanted if sku not in found]
        for product in self._batch_get(missing):
            self._cache[product.sku] = (now, product)
            found[product.sku] = product
        return found

    def forget(self, skus: Iterable[str]) -> None:
        for sku in skus:
            self._cache.pop(sku, None)

    def _batch_get(self, skus: list[str]) -> list[Product]:
        products: list[Product] = []
        for start in range(0, len(skus), _BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [
                        to_dynamo(keys.product(s)) for s in skus[start : start + _BATCH_GET_LIMIT]
                    ]
                }
            }
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                products.extend(
                    product_from_item(from_dynamo(item))
                    for item in response.get("Responses", {}).get(self._table, [])
                )
                # Throttled keys come back unprocessed; botocore's retries
                # already backed off, so asking again at once is fine.
                request = response.get("UnprocessedKeys") or {}
        return products

    # --- merchant writes -----------------------------------------------------

    def put_product(
        self, sku: str, *, name: str, price: int, currency: str, tax_rate: Decimal
    ) -> Product:
        """Create or update a product's catalog data; stock is untouched
        (a new product starts with no stock)."""
        response = self._client.update_item(
            TableName=self._table,
            Key=to_dynamo(keys.product(sku)),
            UpdateExpression=(
                "SET entity = :entity, sku = :sku, #name = :name, price = :price, "
                "currency = :currency, tax_rate = :tax_rate, "
                "available = if_not_exists(available, :zero), "
                "reserved = if_not_exists(reserved, :zero), "
                "shipped = if_not_exists(shipped, :zero), "
                "restocked = if_not_exists(restocked, :zero), "
                "adjusted = if_not_exists(adjusted, :zero) "
                "ADD catalog_version :one"
            ),
            ExpressionAttributeNames={"#name": "name"},
            ExpressionAttributeValues=to_dynamo(
                {
                    ":entity": "product",
                    ":sku": sku,
                    ":name": name,
                    ":price": price,
                    ":currency": currency,
                    ":tax_rate": str(tax_rate),
                    ":zero": 0,
                    ":one": 1,
                }
            ),
            ReturnValues="ALL_NEW",
        )
        self.forget([sku])
        return product_from_item(from_dynamo(response["Attributes"]))

    def set_available(self, sku: str, available: int) -> Product:
        """Set the counted sellable stock. The difference to the previous
        count is added to ``adjusted`` so stock conservation stays checkable;
        the write is conditional on the count it replaces (checkouts may be
        reserving concurrently), and retried on a race."""

        def attempt() -> Product:
            current = self._get_consistent(sku)
            try:
                response = self._client.update_item(
                    TableName=self._table,
                    Key=to_dynamo(keys.product(sku)),
                    UpdateExpression="SET available = :new ADD adjusted :delta",
                    ConditionExpression="available = :old",
                    ExpressionAttributeValues=to_dynamo(
                        {
                            ":new": available,
                            ":old": current.available,
                            ":delta": available - current.available,
                        }
                    ),
                    ReturnValues="ALL_NEW",
                )
            except ClientError as exc:
                if is_conditional_check_failure(exc):
                    raise ConcurrentUpdate("the stock count changed meanwhile", sku=sku) from exc
                raise
            return product_from_item(from_dynamo(response["Attributes"]))

        return retry_on_conflict(attempt, message="stock kept changing; try again", sku=sku)

    def _get_consistent(self, sku: str) -> Product:
        response = self._client.get_item(
            TableName=self._table, Key=to_dynamo(keys.product(sku)), ConsistentRead=True
        )
        if "Item" not in response:
            raise ProductNotFound("no such product", sku=sku)
        return product_from_item(from_dynamo(response["Item"]))
