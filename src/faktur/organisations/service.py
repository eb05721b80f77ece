"""Operations on organisations and their API keys (services flush, never commit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from faktur.auth import generate_api_key, hash_api_key
from faktur.errors import FieldCannotBeCleared
from faktur.models import ApiKey, Organisation
from faktur.numbering import service as numbering
from faktur.numbering.format import InvalidNumberFormat, check_number_format
from faktur.organisations import repository
from faktur.organisations.errors import ApiKeyNotFound, NumberFormatUnusable, OrganisationNotFound
from faktur.organisations.schemas import OrganisationCreate, OrganisationUpdate


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    plaintext: str


def _check_numbering(organisation: Organisation) -> None:
    try:
        check_number_format(organisation.number_format, yearly_reset=organisation.number_reset == "yearly")
    except InvalidNumberFormat as exc:
        raise NumberFormatUnusable(organisation.number_format, str(exc)) from exc


def create_organisation(session: Session, data: OrganisationCreate, now: datetime) -> Organisation:
    values = data.model_dump(exclude_none=True)
    organisation = Organisation(id=uuid.uuid4(), created_at=now, updated_at=now, **values)
    organisation.default_currency = organisation.default_currency or "EUR"
    organisation.payment_terms_days = (
        30 if organisation.payment_terms_days is None else organisation.payment_terms_days
    )
    organisation.number_format = organisation.number_format or "INV-{YYYY}-{SEQ:05}"
    organisation.number_reset = organisation.number_reset or "yearly"
    _check_numbering(organisation)
    repository.add(session, organisation)
    return organisation


def update_organisation(
    session: Session, organisation: Organisation, data: OrganisationUpdate, now: datetime
) -> Organisation:
    # Explicit nulls clear optional fields; required ones cannot be cleared.
    changes = data.model_dump(exclude_unset=True)
    for required in ("legal_name", "default_currency", "payment_terms_days", "number_format", "number_reset"):
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
