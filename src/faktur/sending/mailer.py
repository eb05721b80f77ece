"""One SMTP transaction for one message, and what the server answered: accepted, refused for now
(4xx, connection trouble: retry later) or refused for good (5xx)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from enum import StrEnum

from faktur.sending.smtp_url import SmtpServer

TIMEOUT_SECONDS = 30


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class SmtpOutcome:
    verdict: Verdict
    answer: str


def _answer(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


def _by_code(code: int, message: bytes | str) -> SmtpOutcome:
    verdict = Verdict.TEMPORARY if 400 <= code < 500 else Verdict.PERMANENT
    return SmtpOutcome(verdict, _answer(code, message))


def _transaction(
    smtp: smtplib.SMTP, server: SmtpServer, message: EmailMessage, recipients: list[str]
) -> SmtpOutcome:
    smtp.ehlo()
    if not server.implicit_tls:
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        elif server.username:
            return SmtpOutcome(
                Verdict.PERMANENT, "the server offers no STARTTLS: the password is not sent in the clear"
            )
    if server.username:
        smtp.login(server.username, server.password or "")
    code, text = smtp.mail(str(message["From"].addresses[0].addr_spec))
    if code != 250:
        return _by_code(code, text)
    refused: list[tuple[int, bytes]] = []
    for recipient in recipients:
        code, text = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused.append((code, text))
    if len(refused) == len(recipients):
        # Temporary only when no refusal is for good.
        worst = max(refused, key=lambda item: item[0])
        return _by_code(*worst)
    code, text = smtp.data(message.as_bytes(policy=SMTP_POLICY))
    if code != 250:
        return _by_code(code, text)
    answer = _answer(code, text)
    if refused:
        answer += "; refused recipients: " + "; ".join(_answer(c, t) for c, t in refused)
    return SmtpOutcome(Verdict.ACCEPTED, answer)


def _connect(server: SmtpServer) -> smtplib.SMTP:
    if server.implicit_tls:
        context = ssl.create_default_context()
        return smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT_SECONDS, context=context)
    return smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)


def send_message(server: SmtpServer, message: EmailMessage, recipients: list[str]) -> SmtpOutcome:
    try:
        smtp = _connect(server)
        try:
            return _transaction(smtp, server, message, recipients)
        finally:
            # The outcome is decided: trouble saying goodbye must not turn "accepted" into a retry.
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    except smtplib.SMTPResponseException as exc:  # login refused, a reply to STARTTLS ...
        return _by_code(exc.smtp_code, exc.smtp_error)
    except (smtplib.SMTPException, OSError) as exc:  # unreachable, dropped, TLS failure: try again later
        return SmtpOutcome(Verdict.TEMPORARY, f"{type(exc).__name__}: {exc}")
