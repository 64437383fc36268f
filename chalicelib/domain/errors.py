"""Errors that state business facts.

Each carries a stable machine-readable ``code`` and JSON-safe ``details``;
the API maps the class to an HTTP status in one table (chalicelib/api/errors.py).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(DomainError):
    """The request is well-formed JSON but breaks a rule of the shop."""

    code = "invalid_request"


class UnknownProducts(DomainError):
    code = "unknown_product"


class MixedCurrencies(DomainError):
    code = "mixed_currencies"


class InsufficientStock(DomainError):
    code = "insufficient_stock"


class CatalogChanged(DomainError):
    """A product changed between reading the catalog and reserving stock."""

    code = "catalog_changed"


class ProductNotFound(DomainError):
    code = "product_not_found"


class OrderNotFound(DomainError):
    code = "order_not_found"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class ConcurrentUpdate(DomainError):
    """Someone else changed the order first; re-read and decide again."""

    code = "concurrent_update"


class TemporarilyUnavailable(DomainError):
    """The request could not be carried out right now (the database is
    throttling us, or the change kept colliding); nothing was changed and
    the same request may be sent again shortly."""

    code = "temporarily_unavailable"


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was already used for a different request."""

    code = "idempotency_key_reused"


class Unauthorized(DomainError):
    code = "unauthorized"


# --- carts and opt-out links ----------------------------------------------------------


class CartNotFound(DomainError):
    code = "cart_not_found"


class CartConverted(DomainError):
    """The cart already became an order; it can no longer change."""

    code = "cart_converted"


class CartChanged(DomainError):
    """The cart changed between reading it and placing its order."""

    code = "cart_changed"


class EmptyCart(DomainError):
    code = "empty_cart"


class OptOutLinkUnknown(DomainError):
    code = "opt_out_link_unknown"


# --- fulfilment: shipments, tracking, returns, the order desk --------------------------


class TrackingNumberInUse(DomainError):
    code = "tracking_number_in_use"


class ShipmentExceedsOrder(DomainError):
    """More of a line than was ordered and not yet shipped."""

    code = "shipment_exceeds_order"


class ShipmentNotFound(DomainError):
    code = "shipment_not_found"


class DocumentNotFound(DomainError):
    """The order has no invoice or credit note of that number (yet)."""

    code = "document_not_found"


class DocumentNotArchived(DomainError):
    """The document is issued, but its PDF is not in the archive yet (the
    documents function renders it moments after the issue)."""

    code = "document_not_archived"


class AlreadyClaimed(DomainError):
    """The claim exists: the event, tracking number or refund was seen before."""

    code = "already_claimed"

    def __init__(self, kind: str) -> None:
        super().__init__("already claimed", kind=kind)


class ReturnExceedsShipped(DomainError):
    code = "return_exceeds_shipped"


class RefundExceedsPaid(DomainError):
    code = "refund_exceeds_paid"


class InvalidCursor(DomainError):
    code = "invalid_cursor"


# --- payments: callbacks and providers ---------------------------------------------------


class InvalidSignature(DomainError):
    """The callback's signature is missing, malformed or wrong."""

    code = "invalid_signature"


class StaleSignature(DomainError):
    """The callback was signed outside the tolerance window (a replay?)."""

    code = "stale_signature"


class MalformedEvent(DomainError):
    """The callback is signed correctly but is not an event we can read."""

    code = "malformed_event"


class PaymentNotFound(DomainError):
    """An event about a payment we have no record of (yet): a refund can
    arrive before the callback of the payment it refunds. The provider
    retries on a non-2xx answer, and by then the payment is known."""

    code = "payment_not_found"


class UnknownPaymentProvider(DomainError):
    code = "unknown_payment_provider"


class PaymentProviderUnavailable(DomainError):
    """The provider's API failed or timed out; the caller may retry."""

    code = "payment_provider_unavailable"


class RefundRejected(DomainError):
    """The provider refused the refund (e.g. more than is left to refund)."""

    code = "refund_rejected"


class NothingLeftToRefund(RefundRejected):
    """The provider holds nothing more of the payment: it was refunded in
    full already (perhaps in its dashboard; its refund event follows)."""

    code = "nothing_left_to_refund"


# --- carrier callbacks -------------------------------------------------------------------


class InvalidCarrierSignature(DomainError):
    code = "invalid_signature"


# --- checkout: shipping and discount codes (domain/pricing.py) ------------------------------------


class ShippingMethodUnknown(DomainError):
    """No such shipping method, or it is switched off. The caller raises it
    when the id is not found; pricing raises it for an inactive method."""

    code = "shipping_method_unknown"


class ShippingNotAvailable(DomainError):
    """The shipping method does not deliver to that country."""

    code = "shipping_method_unavailable_for_country"


class ShippingMethodRequired(DomainError):
    """The shop offers shipping methods and the checkout chose none."""

    code = "shipping_method_required"


class TermsNotAccepted(DomainError):
    """The checkout did not say which terms (AGB) the customer accepted."""

    code = "terms_not_accepted"


class TermsVersionOutdated(DomainError):
    """The customer accepted terms that are no longer the shop's current ones
    (the page was open while the merchant published new terms)."""

    code = "terms_version_outdated"


class VatIdInvalid(DomainError):
    """The buyer's VAT ID is no EU VAT identification number: an unknown
    member state, the wrong format for its state, or wrong check digits."""

    code = "vat_id_invalid"


class PickupLocationUnknown(DomainError):
    """No such pickup location, or it is closed (inactive)."""

    code = "pickup_location_unknown"


class ShippingAndPickupChosen(DomainError):
    """The checkout named a shipping method and a pickup location: an order is
    either sent or collected."""

    code = "shipping_method_and_pickup_location"


class ShippingAddressRequired(DomainError):
    """An order that is sent (not collected at a pickup location) needs a
    shipping address."""

    code = "shipping_address_required"


class DiscountCodeRefused(DomainError):
    """A discount code that cannot be used for this order; the subclasses say why."""

    code = "discount_code_refused"


class DiscountCodeUnknown(DiscountCodeRefused):
    """No such code, or it is switched off. The caller raises it when the code
    is not found; ``check_code`` raises it for an inactive code."""

    code = "discount_code_unknown"


class DiscountCodeNotYetValid(DiscountCodeRefused):
    code = "discount_code_not_yet_valid"


class DiscountCodeExpired(DiscountCodeRefused):
    code = "discount_code_expired"


class DiscountCodeUsedUp(DiscountCodeRefused):
    """The code's total number of uses is reached."""

    code = "discount_code_used_up"


class DiscountCodeAlreadyUsed(DiscountCodeRefused):
    """A once-per-customer code this customer has already used."""

    code = "discount_code_already_used"


class DiscountCodeNotApplicable(DiscountCodeRefused):
    """A code limited to some products, and the basket holds none of them."""

    code = "discount_code_not_applicable"


class DiscountMinimumNotReached(DiscountCodeRefused):
    code = "discount_code_minimum_not_reached"


# --- click & collect (domain/pickup.py) ----------------------------------------------


class PickupCodeWrong(DomainError):
    """The code shown at the counter is not the order's pickup code."""

    code = "pickup_code_wrong"


class NotAPickupOrder(DomainError):
    """A pickup step (ready for pickup, picked up) for an order that is sent."""

    code = "not_a_pickup_order"


class PickupOrderNotShipped(DomainError):
    """A shipment for an order the customer collects at a pickup location."""

    code = "pickup_order_not_shipped"


# --- withdrawals (domain/withdrawal.py) ----------------------------------------------


class WithdrawalPeriodEnded(DomainError):
    """The declaration came after the end of the withdrawal period."""

    code = "withdrawal_period_ended"


class WithdrawalLinesInvalid(DomainError):
    """The lines named are not on the order, or more than is left to withdraw."""

    code = "withdrawal_lines_invalid"


class TooManyAttempts(DomainError):
    """One client asked too often in the current window (the withdrawal
    form's order lookup): it may try again when the window ends."""

    code = "too_many_attempts"


class WithdrawalNotFound(DomainError):
    """The order has no withdrawal with this id."""

    code = "withdrawal_not_found"


# --- bank transfer QR codes (payments/girocode.py) ----------------------------------


class InvalidTransferDetails(DomainError):
    """A payment detail cannot go into an EPC QR code; ``field`` names it."""

    code = "invalid_transfer_details"


class InvoiceMismatch(DomainError):
    """An invoice or credit note would not add up (to the order, or to what
    is left of the invoice): it is not issued."""

    code = "invoice_mismatch"


class DatevAccountMissing(DomainError):
    """The month has documents at a VAT rate for which no DATEV revenue
    account is configured (SHOP_DATEV_REVENUE_ACCOUNTS): no booking batch
    is made rather than one that books a rate on the wrong account."""

    code = "datev_account_missing"


# --- the back office (docs/back-office.md) -------------------------------------------


class SignInFailed(DomainError):
    """The address and password were not accepted, or the user has no back-office
    role: the message says no more than that, whichever it was."""

    code = "sign_in_failed"


class NotSignedIn(DomainError):
    """No session, an unknown one, or one past its idle or absolute expiry."""

    code = "not_signed_in"


class NotPermitted(DomainError):
    """The signed-in user's role does not allow this page or action."""

    code = "not_permitted"


class CsrfTokenInvalid(DomainError):
    """A form was posted without the session's CSRF token, or with another."""

    code = "csrf_token_invalid"
