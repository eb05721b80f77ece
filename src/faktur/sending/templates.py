"""Subject and body of invoice and credit note e-mails: built-in texts in English, German and
French, or (invoices) the organisation's own. Templates are plain text with Jinja2 placeholders,
rendered in a sandbox: {{ number }}, {{ seller }}, {{ customer }}, {{ amount_due }}, {{ due_date }},
{{ link }} (credit notes: `CreditNoteValues`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

from faktur.documents.pdf.labels import language_of


@dataclass(frozen=True)
class EmailValues:
    """What a template may say, already formatted in the customer's locale."""

    number: str
    seller: str
    customer: str
    amount_due: str
    due_date: str
    link: str


PLACEHOLDERS = frozenset(EmailValues.__dataclass_fields__)
SUBJECTS = {
    "en": "Invoice {{ number }} from {{ seller }}",
    "de": "Rechnung {{ number }} von {{ seller }}",
    "fr": "Facture {{ number }} de {{ seller }}",
}
BODIES = {
    "en": (
        "Hello {{ customer }},\n\n"
        "please find attached invoice {{ number }} over {{ amount_due }}, due on {{ due_date }}.\n"
        "You can also view and download it here: {{ link }}\n\n"
        "Kind regards\n{{ seller }}\n"
    ),
    "de": (
        "Guten Tag {{ customer }},\n\n"
        "anbei erhalten Sie die Rechnung {{ number }} über {{ amount_due }}, fällig am {{ due_date }}.\n"
        "Sie können sie auch hier ansehen und herunterladen: {{ link }}\n\n"
        "Mit freundlichen Grüßen\n{{ seller }}\n"
    ),
    "fr": (
        "Bonjour {{ customer }},\n\n"
        "veuillez trouver ci-joint la facture {{ number }} d'un montant de {{ amount_due }}, "
        "payable le {{ due_date }}.\n"
        "Vous pouvez aussi la consulter et la télécharger ici : {{ link }}\n\n"
        "Cordialement\n{{ seller }}\n"
    ),
}


@dataclass(frozen=True)
class CreditNoteValues:
    """What a credit note e-mail says, already formatted in the customer's locale; `title` is the
    document's own name as on its PDF (Rechnungskorrektur or Stornorechnung, Avoir, Credit note)."""

    title: str
    number: str
    invoice_number: str
    seller: str
    customer: str
    total: str


CREDIT_NOTE_SUBJECTS = {
    "en": "{{ title }} {{ number }} for invoice {{ invoice_number }} from {{ seller }}",
    "de": "{{ title }} {{ number }} zur Rechnung {{ invoice_number }} von {{ seller }}",
    "fr": "{{ title }} {{ number }} sur la facture {{ invoice_number }} de {{ seller }}",
}
CREDIT_NOTE_BODIES = {
    "en": (
        "Hello {{ customer }},\n\n"
        "please find attached credit note {{ number }} over {{ total }}, which corrects "
        "invoice {{ invoice_number }}.\n\n"
        "Kind regards\n{{ seller }}\n"
    ),
    "de": (
        "Guten Tag {{ customer }},\n\n"
        "anbei erhalten Sie die {{ title }} {{ number }} über {{ total }} "
        "zur Rechnung {{ invoice_number }}.\n\n"
        "Mit freundlichen Grüßen\n{{ seller }}\n"
    ),
    "fr": (
        "Bonjour {{ customer }},\n\n"
        "veuillez trouver ci-joint l'avoir {{ number }} d'un montant de {{ total }}, "
        "qui rectifie la facture {{ invoice_number }}.\n\n"
        "Cordialement\n{{ seller }}\n"
    ),
}
_environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class InvalidEmailTemplate(ValueError):
    pass


def check_template(source: str) -> str:
    """`source` if it parses and uses only the known placeholders; InvalidEmailTemplate otherwise."""
    try:
        parsed = _environment.parse(source)
    except TemplateError as exc:
        raise InvalidEmailTemplate(f"not a valid template: {exc}") from exc
    unknown = meta.find_undeclared_variables(parsed) - PLACEHOLDERS
    if unknown:
        raise InvalidEmailTemplate(
            f"unknown placeholder(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(PLACEHOLDERS))}"
        )
    # What parses can still fail to render (an attribute the sandbox refuses or that does not
    # exist): try it now, so a stored template always renders.
    try:
        _environment.from_string(source).render({name: "x" for name in PLACEHOLDERS})
    except TemplateError as exc:
        raise InvalidEmailTemplate(f"the template cannot be rendered: {exc}") from exc
    return source


def render_email(
    locale: str, values: EmailValues, subject: str | None = None, body: str | None = None
) -> tuple[str, str]:
    """(subject, body) from the organisation's texts when given, else the built-in ones of `locale`."""
    language = language_of(locale)
    subject_source = subject or SUBJECTS.get(language, SUBJECTS["en"])
    body_source = body or BODIES.get(language, BODIES["en"])
    context = asdict(values)
    rendered_subject = _environment.from_string(subject_source).render(context)
    # A subject is one header line: whatever the template made of it, no line breaks.
    return " ".join(rendered_subject.split()), _environment.from_string(body_source).render(context)


def render_credit_note_email(locale: str, values: CreditNoteValues) -> tuple[str, str]:
    """(subject, body) of a credit note e-mail, from the built-in texts of `locale` (the
    organisation's own texts are for invoices: they speak of an amount due and a due date)."""
    language = language_of(locale)
    context = asdict(values)
    subject = _environment.from_string(CREDIT_NOTE_SUBJECTS.get(language, CREDIT_NOTE_SUBJECTS["en"]))
    body = _environment.from_string(CREDIT_NOTE_BODIES.get(language, CREDIT_NOTE_BODIES["en"]))
    return " ".join(subject.render(context).split()), body.render(context)
