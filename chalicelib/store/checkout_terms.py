"""The merchant's shipping methods, pickup locations and discount codes in DynamoDB.

Each kind lives in one partition (store/keys.py), so a listing is one Query
and a checkout reads the chosen method and code by key, in the same
BatchGetItem as its products (store/catalog.py). Every change bumps the
item's ``version``, which the placement transaction re-checks.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.errors import (
    DiscountCodeUnknown,
    PickupLocationUnknown,
    ShippingMethodUnknown,
)
from chalicelib.domain.pricing import DiscountCode, PickupLocation, ShippingMethod
from chalicelib.store import keys
from chalicelib.store.attributes import from_dynamo, to_dynamo
from chalicelib.store.errors import is_conditional_check_failure
from chalicelib.store.mapping import (
    discount_code_from_item,
    discount_code_to_item,
    pickup_location_from_item,
    pickup_location_to_item,
    shipping_method_from_item,
    shipping_method_to_item,
)


class DynamoShippingAndCodes:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # --- shipping methods ----------------------------------------------------

    def put_shipping_method(self, method: ShippingMethod) -> ShippingMethod:
        """The method and the set of active ids change in one transaction,
        so a checkout without a method never misses the shop's first one."""
        fields = shipping_method_to_item(method)
        update = self._set_fields(keys.shipping_method(method.id), fields)
        active = {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo(keys.active_shipping_methods()),
                "UpdateExpression": ("ADD" if method.active else "DELETE") + " active_ids :id",
                "ExpressionAttributeValues": {":id": {"SS": [method.id]}},
            }
        }
        self._client.transact_write_items(TransactItems=[{"Update": update}, active])
        return self._get_method(method.id)

    def shipping_methods(self) -> list[ShippingMethod]:
        return [
            shipping_method_from_item(item)
            for item in self._query(keys.SHIPPING_METHODS_PK, keys.SHIPPING_METHOD_PREFIX)
        ]

    def deactivate_shipping_method(self, method_id: str) -> ShippingMethod:
        current = self._get_method(method_id)
        if not current.active:
            return current
        return self.put_shipping_method(replace(current, active=False))

    def _get_method(self, method_id: str) -> ShippingMethod:
        item = self._get(keys.shipping_method(method_id))
        if item is None:
            raise ShippingMethodUnknown("no such shipping method", method=method_id)
        return shipping_method_from_item(item)

    # --- pickup locations (click & collect) -----------------------------------

    def put_pickup_location(self, location: PickupLocation) -> PickupLocation:
        """No set of active ids as for methods: a checkout without a method
        or location asks only whether the shop ships at all."""
        key = keys.pickup_location(location.id)
        self._client.update_item(**self._set_fields(key, pickup_location_to_item(location)))
        return self._get_location(location.id)

    def pickup_locations(self) -> list[PickupLocation]:
        return [
            pickup_location_from_item(item)
            for item in self._query(keys.PICKUP_LOCATIONS_PK, keys.PICKUP_LOCATION_PREFIX)
        ]

    def deactivate_pickup_location(self, location_id: str) -> PickupLocation:
        current = self._get_location(location_id)
        if not current.active:
            return current
        return self.put_pickup_location(replace(current, active=False))

    def _get_location(self, location_id: str) -> PickupLocation:
        item = self._get(keys.pickup_location(location_id))
        if item is None:
            raise PickupLocationUnknown("no such pickup location", location=location_id)
        return pickup_location_from_item(item)

    # --- discount codes ------------------------------------------------------

    def put_discount_code(self, code: DiscountCode) -> DiscountCode:
        key = keys.discount_code(code.code)
        update = self._set_fields(key, discount_code_to_item(code), keep_uses=True)
        self._client.update_item(**update)
        return self._get_code(code.code)

    def discount_codes(self) -> list[DiscountCode]:
        return [
            discount_code_from_item(item)
            for item in self._query(keys.DISCOUNT_CODES_PK, keys.DISCOUNT_CODE_PREFIX)
        ]

    def deactivate_discount_code(self, code: str) -> DiscountCode:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(keys.discount_code(code)),
                UpdateExpression="SET active = :false ADD version :one",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=to_dynamo({":false": False, ":one": 1}),
            )
        except ClientError as exc:
            if is_conditional_check_failure(exc):
                raise DiscountCodeUnknown("this discount code does not exist", code=code) from exc
            raise
        return self._get_code(code)

    def _get_code(self, code: str) -> DiscountCode:
        item = self._get(keys.discount_code(code))
        if item is None:
            raise DiscountCodeUnknown("this discount code does not exist", code=code)
        return discount_code_from_item(item)

    # --- helpers -------------------------------------------------------------

    def _set_fields(
        self, key: dict[str, str], fields: dict[str, Any], *, keep_uses: bool = False
    ) -> dict[str, Any]:
        """An update that sets ``fields``, removes those that are None (a
        limit the merchant took away) and bumps the version."""
        names = {f"#{name}": name for name in fields}
        present = {name: value for name, value in fields.items() if value is not None}
        absent = [name for name, value in fields.items() if value is None]
        sets = [f"#{name} = :{name}" for name in present]
        values = {f":{name}": value for name, value in present.items()}
        if keep_uses:
            sets.append("uses = if_not_exists(uses, :zero)")
            values[":zero"] = 0
        expression = "SET " + ", ".join(sets)
        if absent:
            expression += " REMOVE " + ", ".join(f"#{name}" for name in absent)
        expression += " ADD version :one"
        values[":one"] = 1
        return {
            "TableName": self._table,
            "Key": to_dynamo(key),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_dynamo(values),
        }

    def _get(self, key: dict[str, str]) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_dynamo(key), ConsistentRead=True
        )
        return from_dynamo(response["Item"]) if "Item" in response else None

    def _query(self, partition: str, prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": to_dynamo({":pk": partition, ":prefix": prefix}),
        }
        while True:
            response = self._client.query(**request)
            items.extend(from_dynamo(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
