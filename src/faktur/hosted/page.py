"""HTML of the hosted invoice page (Jinja2, autoescaped) and the headers every hosted response carries."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from faktur.documents.pdf.render import Formatter, country_name
from faktur.documents.snapshot import Party
from faktur.hosted.labels import page_labels
from faktur.hosted.service import HostedInvoice
from faktur.payment_qr import giro_code_svg

STATIC_PATH = "/hosted/static"
# No script, no frame, no form, nothing from elsewhere: the page is text, a style sheet and an
# inline SVG. The token is in the URL, so no Referer may carry it off and nothing may keep it.
HOSTED_HEADERS = {
    "Cache-Control": "private, no-cache",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("faktur.hosted", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _address(party: Party, locale: str) -> list[str]:
    address = party.address
    city = " ".join(part for part in (address.postal_code, address.city) if part)
    return [*address.street_lines, city, country_name(address.country_code, locale)]


def render_invoice_page(page: HostedInvoice, token: str) -> str:
    """The page; its download links are relative to it (`{token}/pdf`), so the organisation's id,
    which its URL names, appears nowhere in the page itself."""
    snapshot = page.snapshot
    locale = snapshot.locale.replace("-", "_")
    return (
        _environment()
        .get_template("invoice.html")
        .render(
            page=page,
            t=page_labels(locale),
            fmt=Formatter(locale, snapshot.currency),
            address=lambda party: _address(party, locale),
            qr_svg=giro_code_svg(page.giro_code_payload) if page.giro_code_payload else None,
            token=token,
            static_path=STATIC_PATH,
        )
    )


def render_not_found_page(locale: str = "en") -> str:
    return (
        _environment().get_template("not_found.html").render(t=page_labels(locale), static_path=STATIC_PATH)
    )
