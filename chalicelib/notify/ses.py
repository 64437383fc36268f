"""Sending through SES v2, as one MIME message per email.

Raw content, not SES's "Simple" form: it carries the text and HTML parts,
UTF-8 subjects and the List-Unsubscribe headers exactly as we build them,
and the images the HTML shows inline (the GiroCode): multipart/alternative
of the text and a multipart/related of the HTML with its images, which mail
clients show where ``cid:`` points (they block ``data:`` URIs and remote images).
A file it carries (the invoice's PDF) makes it multipart/mixed: the
alternative first, then the attachment.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from typing import Any

from chalicelib.services.ports import Email, SendFailed


def mime(email: Email, sender: str, reply_to: str) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = email.to
    message["Reply-To"] = reply_to
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text, charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    if email.images:
        html = message.get_body(("html",))
        assert html is not None  # just added
        for image in email.images:
            html.add_related(
                image.data,
                "image",
                image.subtype,
                cid=f"<{image.content_id}>",
                disposition="inline",
            )
    for attachment in email.attachments:
        # Turns the message into multipart/mixed: the text and HTML, then the file.
        message.add_attachment(
            attachment.data,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    # After the parts: set_content drops Content-* headers set before it.
    message["Content-Language"] = email.locale
    return message.as_bytes()


class SesMailer:
    def __init__(self, client: Any, sender: str, reply_to: str, configuration_set: str) -> None:
        self._client = client
        self._sender = sender
        self._reply_to = reply_to
        self._configuration_set = configuration_set

    def send(self, email: Email) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [email.to]},
            "Content": {"Raw": {"Data": mime(email, self._sender, self._reply_to)}},
            # Tags reach the configuration set's event destinations, so a
            # bounce or complaint can be traced to the kind of email.
            "EmailTags": [{"Name": "kind", "Value": email.kind}],
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._client.send_email(**request)
        except (ClientError, BotoCoreError) as exc:
            code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else "network"
            raise SendFailed(code) from exc
        return str(response["MessageId"])
