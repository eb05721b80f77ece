"""Who a request or a job acts as: the authenticated principal and the actor services take.

Below every domain, so services, billing and the dialects share them without importing the HTTP
layer or one another.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from faktur.models import Organisation


@dataclass(frozen=True)
class Principal:
    """The caller an API key authenticated: its organisation, the key, and the name it acts by."""

    organisation: Organisation
    api_key_id: uuid.UUID | None
    actor: str

    @property
    def organisation_id(self) -> uuid.UUID:
        return self.organisation.id

    def as_actor(self) -> Actor:
        """The actor services take for this caller: its organisation, under the name it acts by."""
        return Actor(self.organisation, self.actor)


@dataclass(frozen=True)
class Actor:
    """Who acts: the organisation acted for and the name recorded in the status history."""

    organisation: Organisation
    name: str

    @property
    def organisation_id(self) -> uuid.UUID:
        return self.organisation.id
