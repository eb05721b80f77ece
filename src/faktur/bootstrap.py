"""First-start set-up: migrate, and create a demo organisation with an API key if there is none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from faktur.organisations import repository, service
from faktur.organisations.schemas import OrganisationCreate


@dataclass(frozen=True)
class DemoOrganisation:
    organisation_id: str
    api_key: str


def create_demo_organisation_if_empty(session: Session) -> DemoOrganisation | None:
    if repository.list_organisations(session):
        return None
    now = datetime.now(UTC)
    organisation = service.create_organisation(
        session,
        OrganisationCreate(
            legal_name="Demo GmbH",
            address_line1="Musterstraße 1",
            city="Berlin",
            postal_code="10115",
            country="DE",
            vat_id="DE136695976",
            email="billing@demo.example",
            iban="DE02120300000000202051",
            bic="BYLADEM1001",
            default_currency="EUR",
        ),
        now,
    )
    key = service.create_api_key(session, organisation.id, "demo", now)
    return DemoOrganisation(str(organisation.id), key.plaintext)
