"""The order.* events: order.fully_invoiced when an invoice takes the last remaining quantity."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from faktur.events.service import record_event
from faktur.events.types import EventType


def record_if_fully_invoiced(
    session: Session, organisation_id: uuid.UUID, order_id: uuid.UUID, now: datetime
) -> None:
    # Imported here: the order service records this event and the presenters import it.
    from faktur.orders.presenters import present_order
    from faktur.orders.service import get_order

    view = get_order(session, organisation_id, order_id)
    if view.status == "invoiced":
        record_event(session, organisation_id, EventType.ORDER_FULLY_INVOICED, present_order(view), now=now)
