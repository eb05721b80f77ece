"""The e-mail of an invoice as a MIME message: text body, the PDF and the XML attached (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def build_message(
    *,
    sender: str,
    sender_name: str,
    reply_to: str | None,
    to: list[str],
    cc: list[str],
    subject: str,
    body: str,
    message_id: str,
    date: datetime,
    attachments: list[Attachment],
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = Address(display_name=sender_name, addr_spec=sender)
    if reply_to and reply_to != sender:
        message["Reply-To"] = reply_to
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message.set_content(body)
    for attachment in attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message
