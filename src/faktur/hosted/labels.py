"""Words of the hosted invoice page in the buyer's language (en, de, fr); the PDF's own labels
(documents.pdf.labels) name everything the two have in common."""

from __future__ import annotations

from faktur.documents.pdf.labels import LABELS as DOCUMENT_LABELS
from faktur.documents.pdf.labels import language_of

PAGE_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "lang": "en",
        "from": "From",
        "status": "Status",
        "status_open": "Open",
        "status_paid": "Paid",
        "status_void": "Void",
        "status_uncollectible": "Uncollectible",
        "amount_paid": "Amount paid",
        "download_pdf": "Download PDF",
        "download_xml": "Download e-invoice (XML)",
        "scan_to_pay": "Scan with your banking app to pay by SEPA transfer",
        "not_found_title": "Invoice not found",
        "not_found_text": "This link is not valid (any more). Please ask the sender for a new link.",
    },
    "de": {
        "lang": "de",
        "from": "Von",
        "status": "Status",
        "status_open": "Offen",
        "status_paid": "Bezahlt",
        "status_void": "Storniert",
        "status_uncollectible": "Uneinbringlich",
        "amount_paid": "Bereits bezahlt",
        "download_pdf": "PDF herunterladen",
        "download_xml": "E-Rechnung (XML) herunterladen",
        "scan_to_pay": "Mit Ihrer Banking-App scannen und per SEPA-Überweisung bezahlen",
        "not_found_title": "Rechnung nicht gefunden",
        "not_found_text": (
            "Dieser Link ist nicht (mehr) gültig. Bitte fragen Sie den Absender nach einem neuen Link."
        ),
    },
    "fr": {
        "lang": "fr",
        "from": "De",
        "status": "Statut",
        "status_open": "Ouverte",
        "status_paid": "Payée",
        "status_void": "Annulée",
        "status_uncollectible": "Irrécouvrable",
        "amount_paid": "Déjà payé",
        "download_pdf": "Télécharger le PDF",
        "download_xml": "Télécharger la facture électronique (XML)",
        "scan_to_pay": "Scannez avec votre application bancaire pour payer par virement SEPA",
        "not_found_title": "Facture introuvable",
        "not_found_text": "Ce lien n'est pas (ou plus) valide. Demandez un nouveau lien à l'expéditeur.",
    },
}


def page_labels(locale: str) -> dict[str, str]:
    """The document's labels with the page's own, soft hyphens removed (browsers hyphenate)."""
    language = language_of(locale)
    merged = {**DOCUMENT_LABELS[language], **PAGE_LABELS.get(language, PAGE_LABELS["en"])}
    return {key: value.replace("\u00ad", "") for key, value in merged.items()}


def reader_language(accept_language: str) -> str:
    """The first language of an Accept-Language header that the page speaks; English otherwise."""
    for part in accept_language.split(",")[:10]:
        language = part.split(";")[0].strip().split("-")[0].lower()
        if language in PAGE_LABELS:
            return language
    return "en"
