"""Products and stock in DynamoDB, with a short-lived read cache."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import ConcurrentUpdate, ProductNotFound
from chalicelib.domain.pricing import DiscountCode, PickupLocation, ShippingMethod
from chalicelib.retry import retry_on_conflict
from chalicelib.services.ports import CheckoutTerms
from chalicelib.store import keys
from chalicelib.store.attributes import from_dynamo, to_dynamo
from chalicelib.store.errors import is_conditional_check_failure
from chalicelib.store.mapping import (
    discount_code_from_item,
    pickup_location_from_item,
    product_from_item,
    shipping_method_from_item,
)

_BATCH_GET_LIMIT = 100
T = TypeVar("T")


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
        # Checkout terms, cached like the products: the placement transaction
        # re-checks each one's version. A code's cached ``uses`` is never
        # trusted: the transaction's condition on the uses left decides.
        self._methods: dict[str, tuple[float, ShippingMethod]] = {}
        self._codes: dict[str, tuple[float, DiscountCode]] = {}
        self._locations: dict[str, tuple[float, PickupLocation]] = {}

    # --- reads ---------------------------------------------------------------

    def get(self, sku: str) -> Product:
        response = self._client.get_item(TableName=self._table, Key=to_dynamo(keys.product(sku)))
        if "Item" not in response:
            raise ProductNotFound("no such product", sku=sku)
        return product_from_item(from_dynamo(response["Item"]))

    def get_many(self, skus: Iterable[str], *, fresh: bool = False) -> dict[str, Product]:
        """The products that exist among ``skus`` (unknown SKUs are absent)."""
        return self.checkout_terms(skus, fresh=fresh).products

    def checkout_terms(
        self,
        skus: Iterable[str],
        *,
        shipping_method: str | None = None,
        discount_code: str | None = None,
        pickup_location: str | None = None,
        fresh: bool = False,
    ) -> CheckoutTerms:
        """Products, shipping method or pickup location and discount code: whatever is not
        cached comes in one BatchGetItem, so a cold checkout stays at one
        read before its transaction."""
        wanted = list(dict.fromkeys(skus))
        now = self._monotonic()

        def cached(cache: dict[str, tuple[float, T]], key: str) -> T | None:
            entry = None if fresh else cache.get(key)
            return entry[1] if entry and now - entry[0] < self._cache_seconds else None

        found: dict[str, Product] = {}
        for sku in wanted:
            product = cached(self._cache, sku)
            if product is not None:
                found[sku] = product
        method = cached(self._methods, shipping_method) if shipping_method else None
        code = cached(self._codes, discount_code) if discount_code else None
        location = cached(self._locations, pickup_location) if pickup_location else None
        missing = [keys.product(sku) for sku in wanted if sku not in found]
        if shipping_method and method is None:
            missing.append(keys.shipping_method(shipping_method))
        if discount_code and code is None:
            missing.append(keys.discount_code(discount_code))
        if pickup_location and location is None:
            missing.append(keys.pickup_location(pickup_location))
        for item in self._batch_get(missing):
            pk, sk = item["PK"], item["SK"]
            if sk == keys.PRODUCT_SK:
                product = product_from_item(item)
                self._cache[product.sku] = (now, product)
                found[product.sku] = product
            elif pk == keys.SHIPPING_METHODS_PK:
                method = shipping_method_from_item(item)
                self._methods[method.id] = (now, method)
            elif pk == keys.DISCOUNT_CODES_PK:
                code = discount_code_from_item(item)
                self._codes[code.code] = (now, code)
            elif pk == keys.PICKUP_LOCATIONS_PK:
                location = pickup_location_from_item(item)
                self._locations[location.id] = (now, location)
        return CheckoutTerms(
            products=found, shipping_method=method, discount_code=code, pickup_location=location
        )

    def forget(self, skus: Iterable[str]) -> None:
        for sku in skus:
            self._cache.pop(sku, None)

    def _batch_get(self, wanted: list[dict[str, str]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [to_dynamo(key) for key in wanted[start : start + _BATCH_GET_LIMIT]]
                }
            }
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                items.extend(
                    from_dynamo(item) for item in response.get("Responses", {}).get(self._table, [])
                )
                # Throttled keys come back unprocessed; botocore's retries
                # already backed off, so asking again at once is fine.
                request = response.get("UnprocessedKeys") or {}
        return items

    # --- merchant writes -----------------------------------------------------

    def put_product(
        self,
        sku: str,
        *,
        name: str,
        price: int,
        currency: str,
        tax_rate: Decimal,
        names: Mapping[str, str] | None = None,
    ) -> Product:
        """Create or update a product's catalog data; stock is untouched
        (a new product starts with no stock)."""
        # Names per locale, or none (one name for every locale: the item keeps
        # the shape it had before names per locale).
        per_locale = "#names = :names, " if names else ""
        values: dict[str, Any] = {":names": dict(names)} if names else {}
        response = self._client.update_item(
            TableName=self._table,
            Key=to_dynamo(keys.product(sku)),
            UpdateExpression=(
                f"SET entity = :entity, sku = :sku, #name = :name, {per_locale}price = :price, "
                "currency = :currency, tax_rate = :tax_rate, "
                "available = if_not_exists(available, :zero), "
                "reserved = if_not_exists(reserved, :zero), "
                "shipped = if_not_exists(shipped, :zero), "
                "restocked = if_not_exists(restocked, :zero), "
                "adjusted = if_not_exists(adjusted, :zero) "
                "ADD catalog_version :one" + ("" if names else " REMOVE #names")
            ),
            ExpressionAttributeNames={"#name": "name", "#names": "names"},
            ExpressionAttributeValues=to_dynamo(
                {
                    ":entity": "product",
                    ":sku": sku,
                    ":name": name,
                    **values,
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
