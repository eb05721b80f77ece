"""FAKTUR_SMTP_URL: smtp://user:password@host:port (STARTTLS) or smtps://user:password@host:port (TLS)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    # True: TLS from the first byte (smtps, port 465); False: STARTTLS when offered, required with a login.
    implicit_tls: bool

    def __repr__(self) -> str:  # never print the password
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"SmtpServer({scheme}://{self.username or ''}@{self.host}:{self.port})"


class InvalidSmtpUrl(ValueError):
    pass


def parse_smtp_url(url: str) -> SmtpServer:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise InvalidSmtpUrl("FAKTUR_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS)")
    if not parts.hostname:
        raise InvalidSmtpUrl("FAKTUR_SMTP_URL names no host, e.g. smtp://user:password@mail.example.com:587")
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidSmtpUrl(f"FAKTUR_SMTP_URL has an invalid port: {exc}") from exc
    implicit_tls = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if implicit_tls else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit_tls,
    )
