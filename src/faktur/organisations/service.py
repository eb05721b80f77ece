"""Operations on organisations and their API keys (services flush, never commit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from faktur.errors import FieldCannotBeCleared
from faktur.models import ApiKey, Organisation
from faktur.models.organisation import DEFAULT_CREDIT_NOTE_NUMBER_FORMAT
from faktur.numbering import service as numbering
from faktur.numbering.format import InvalidNumberFormat, check_number_format, formats_overlap
from faktur.organisations import repository
from faktur.organisations.api_keys import generate_api_key, hash_api_key
from faktur.organisations.errors import (
    ApiKeyNotFound,
    NumberFormatsOverlap,
    NumberFormatUnusable,
    OrganisationNotFound,
)
from faktur.organisations.schemas import OrganisationCreate, OrganisationUpdate


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    plaintext: str


def _check_numbering(organisation: Organisation) -> None:
    yearly = organisation.number_reset == "yearly"
    for field in ("number_format", "credit_note_number_format"):
        fmt = getattr(organisation, field)
        try:
            check_number_format(fmt, yearly_reset=yearly)
        except InvalidNumberFormat as exc:
            raise NumberFormatUnusable(fmt, str(exc), field=field) from exc
    if formats_overlap(organisation.number_format, organisation.credit_note_number_format):
        raise NumberFormatsOverlap(organisation.number_format, organisation.credit_note_number_format)


def create_organisation(session: Session, data: OrganisationCreate, now: datetime) -> Organisation:
    values = data.model_dump(exclude_none=True)
    organisation = Organisation(id=uuid.uuid4(), created_at=now, updated_at=now, **values)
    organisation.default_currency = organisation.default_currency or "EUR"
    organisation.payment_terms_days = (
        30 if organisation.payment_terms_days is None else organisation.payment_terms_days
    )
    organisation.number_format = organisation.number_format or "INV-{YYYY}-{SEQ:05}"
    organisation.number_reset = organisation.number_reset or "yearly"
    organisation.email_on_finalize = bool(organisation.email_on_finalize)
    organisation.credit_note_number_format = (
        organisation.credit_note_number_format or DEFAULT_CREDIT_NOTE_NUMBER_FORMAT
    )
    _check_numbering(organisation)
    repository.add(session, organisation)
    return organisation


def update_organisation(
    session: Session, organisation: Organisation, data: OrganisationUpdate, now: datetime
) -> Organisation:
    # Explicit nulls clear optional fields; required ones cannot be cleared.
    changes = data.model_dump(exclude_unset=True)
    required_fields = (
        "legal_name",
        "default_currency",
        "payment_terms_days",
        "number_format",
        "number_reset",
        "email_on_finalize",
        "credit_note_number_format",
    )
    for required in required_fields:
        if required in changes and changes[required] is None:
            raise FieldCannotBeCleared(required)
    numbering_before = (organisation.number_format, organisation.number_reset)
    for field, value in changes.items():
        setattr(organisation, field, value)
    _check_numbering(organisation)
    organisation.updated_at = now
    session.flush()
    if (organisation.number_format, organisation.number_reset) != numbering_before:
        numbering.continue_after_settings_change(session, organisation, now.date())
    return organisation


def create_api_key(session: Session, organisation_id: uuid.UUID, name: str, now: datetime) -> CreatedKey:
    if repository.get(session, organisation_id) is None:
        raise OrganisationNotFound(organisation_id)
    new = generate_api_key()
    key = ApiKey(
        id=uuid.uuid4(),
        organisation_id=organisation_id,
        name=name,
        prefix=new.prefix,
        key_hash=new.key_hash,
        created_at=now,
    )
    repository.add(session, key)
    return CreatedKey(api_key=key, plaintext=new.plaintext)


def revoke_api_key(session: Session, key_id: uuid.UUID, now: datetime) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise ApiKeyNotFound(key_id)
    return _revoke(session, key, now)


def revoke_api_key_by_plaintext(session: Session, plaintext: str, now: datetime) -> ApiKey:
    """Revoke the key itself (as a client sends it) when its id is not at hand."""
    key = repository.get_key_by_hash(session, hash_api_key(plaintext.strip()))
    if key is None:
        raise ApiKeyNotFound()
    return _revoke(session, key, now)


def _revoke(session: Session, key: ApiKey, now: datetime) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = now
        session.flush()
    return key
