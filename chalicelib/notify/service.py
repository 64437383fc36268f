"""The use case behind the notifications queue: an event in, its emails out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.clock import utc_now
from chalicelib.notify import emails as catalogue
from chalicelib.notify.emails import Shop
from chalicelib.observability import logger, metrics
from chalicelib.services.ports import (
    AlreadySent,
    Attachment,
    DocumentArchive,
    Email,
    EmailReceipts,
    Mailer,
    PickupCodes,
    ReceiptKey,
    SendFailed,
    SuppressionList,
)
from chalicelib.settings import NotificationSettings


@dataclass(frozen=True)
class Notifier:
    """What sending needs: receipts, a mailer, the shop and a clock."""

    receipts: EmailReceipts
    mailer: Mailer
    shop: Shop
    settings: NotificationSettings
    clock: Callable[[], datetime] = utc_now
    #: Checked before every marketing email: an address that opted out or
    #: asked for erasure or restriction after the event was written gets none.
    suppressions: SuppressionList | None = None
    #: Where the ready-for-pickup email finds the order's pickup code, which
    #: no event carries.
    pickup_codes: PickupCodes | None = None
    #: Where the invoice email reads the PDF it attaches (the invoices bucket).
    archive: DocumentArchive | None = None


def send_event_emails(detail_type: str, detail: dict[str, Any], notifier: Notifier) -> list[str]:
    """Send every email the event calls for, each exactly once; returns the
    kinds sent now (not those sent by an earlier delivery).

    Raises (so the event is retried, and ends in the DLQ if it keeps failing)
    when a send fails, another delivery is mid-send, or the detail does not
    match its schema.
    """
    parsed = catalogue.parse(detail_type, detail)
    if parsed is None:
        return []
    secrets = _secrets(detail_type, parsed, notifier)
    sent = []
    for rendered in catalogue.emails_for(detail_type, parsed, notifier.shop, secrets):
        email = rendered
        if email.kind in catalogue.ATTACHED_BY_EVENT.get(detail_type, ()):
            email = replace(email, attachments=(_archived_pdf(parsed, notifier),))
        if deliver(email, notifier):
            sent.append(email.kind)
    return sent


def _secrets(detail_type: str, detail: Any, notifier: Notifier) -> dict[str, str]:
    """What the email shows that its event must not carry (the pickup code),
    read from the order. Missing: raise, so the message is retried."""
    name = catalogue.SECRETS_BY_EVENT.get(detail_type)
    if name is None:
        return {}
    if notifier.pickup_codes is None:
        raise RuntimeError("this notifier cannot read pickup codes")
    code = notifier.pickup_codes.pickup_code(detail.order.id)
    if code is None:
        raise RuntimeError("the order has no pickup code")
    return {name: code}


def _archived_pdf(detail: Any, notifier: Notifier) -> Attachment:
    """The PDF a DocumentArchived event names, read from the archive by its
    version and checked against its digest (a mismatch raises: retried,
    then dead-lettered, never mailed)."""
    import hashlib

    from chalicelib.domain.archive import ArchivedPdf, pdf_filename

    if notifier.archive is None:
        raise RuntimeError("this notifier cannot read the archive")
    data = detail.data
    pdf = notifier.archive.read(
        ArchivedPdf(
            key=data.key,
            version_id=data.version_id,
            sha256=data.sha256,
            size=data.size,
            stored_at=detail.occurred_at,
        )
    )
    if hashlib.sha256(pdf).hexdigest() != data.sha256:
        raise RuntimeError("the archived PDF does not match its digest")
    return Attachment(
        filename=pdf_filename(data.number), maintype="application", subtype="pdf", data=pdf
    )


def deliver(email: Email, notifier: Notifier) -> bool:
    """Send one email unless its receipt says it went out, or it is marketing
    to a suppressed address; True if sent now."""
    if catalogue.KINDS[email.kind].marketing and _suppressed(email.to, notifier):
        logger.info("marketing email suppressed", kind=email.kind, event_id=email.event_id)
        metrics.add_metric(name="MarketingEmailsSuppressed", unit="Count", value=1)
        return False
    key = ReceiptKey(email.subject_id, email.kind, email.event_id)
    now = int(notifier.clock().timestamp())
    settings = notifier.settings
    try:
        token = notifier.receipts.claim(
            key,
            now=now,
            lease_seconds=settings.email_send_lease_seconds,
            ttl_seconds=settings.email_receipt_ttl_days * 86400,
        )
    except AlreadySent:
        logger.info("email already sent", kind=email.kind, event_id=email.event_id)
        return False
    try:
        message_id = notifier.mailer.send(email)
    except SendFailed as exc:
        notifier.receipts.release(key, token)
        logger.warning("email not sent", kind=email.kind, event_id=email.event_id, code=str(exc))
        metrics.add_metric(name="EmailSendFailures", unit="Count", value=1)
        raise
    notifier.receipts.complete(key, token, message_id=message_id, now=now)
    logger.info("email sent", kind=email.kind, event_id=email.event_id, locale=email.locale)
    metrics.add_metric(name="EmailsSent", unit="Count", value=1)
    return True


def _suppressed(address: str, notifier: Notifier) -> bool:
    from chalicelib.domain.data_requests import subject_hash

    if notifier.suppressions is None:
        return False
    return notifier.suppressions.is_suppressed(subject_hash(address))
