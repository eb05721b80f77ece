"""The unit of work of one request: a session opened before the handler and committed after it.

The route class, not the services, owns the transaction (services only flush). It also finishes
what an Idempotency-Key started: the response is stored in the same transaction as its effects,
so a retry either replays it or, if the first attempt rolled back, does the work once.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from faktur.http.requests import ExactJSONRequest
from faktur.idempotency.service import IdempotentReplay, record_response


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def transactional_handler(request: Request) -> Response:
            request = ExactJSONRequest(request.scope, request.receive)
            # Read now so dependencies (idempotency) can hash the exact bytes the handler parses.
            request.state.raw_body = await request.body()
            session: Session = request.app.state.session_factory()
            request.state.session = session
            try:
                response = await handler(request)
                await run_in_threadpool(_commit, session, request, response)
                return response
            except IdempotentReplay as replay:
                await run_in_threadpool(session.rollback)
                return replay.response()
            except BaseException:
                await run_in_threadpool(session.rollback)
                raise
            finally:
                await run_in_threadpool(session.close)

        return transactional_handler


def _commit(session: Session, request: Request, response: Response) -> None:
    claim = getattr(request.state, "idempotency_claim", None)
    if claim is not None:
        record_response(session, claim, response.status_code, bytes(response.body))
    session.commit()
