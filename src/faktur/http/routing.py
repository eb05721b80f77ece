"""The unit of work of one request: a session opened before the handler, committed right after it.

The route class, not the services, owns the transaction (services only flush). The endpoint is
wrapped so that serialising the response, storing it for its Idempotency-Key and committing all
happen in the endpoint's own worker thread, straight after it returns: locks taken by the
request (the invoice-number counter above all) are held no longer than the work itself.
A retry with the same key either replays the stored response or, if the first attempt rolled
back, does the work once.

Each route says whether its unit of work reads or writes (`Access`): a `TransactionalRoute`
reads for GET and HEAD and writes for every other method; a `WritingRoute` writes for every
method (a GET that stores what it computes). On SQLite a reader is a WAL reader that never waits
for the write lock; a writer holds it from its first statement.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pydantic_core
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from faktur import decided_last
from faktur.db import Access
from faktur.events.service import settle_decided
from faktur.http.input_text import refuse_illegal_text
from faktur.http.requests import ExactJSONRequest
from faktur.idempotency.service import IdempotentReplay, record_response


@dataclass
class UnitOfWork:
    session: Session
    request: Request
    finished: bool = False

    def commit(self, response: Response) -> Response:
        """Decide what was left to decide last, store the response for the request's
        Idempotency-Key, commit; returns the response as sent."""
        decided = decided_last.decide_all(self.session)
        settle_decided(self.session, decided)
        if decided:
            response = _with_body(response, decided_last.substitute(bytes(response.body), decided))
        claim = getattr(self.request.state, "idempotency_claim", None)
        if claim is not None:
            record_response(self.session, claim, response.status_code, bytes(response.body))
        self.session.commit()
        self.close()
        return response

    def rollback(self) -> None:
        if not self.finished:
            self.session.rollback()
            self.close()

    def close(self) -> None:
        self.session.close()
        self.finished = True


def _with_body(response: Response, body: bytes) -> Response:
    headers = {k: v for k, v in response.headers.items() if k != "content-length"}
    replaced = Response(body, status_code=response.status_code, headers=headers)
    replaced.background = response.background
    return replaced


_unit_of_work: ContextVar[UnitOfWork | None] = ContextVar("faktur_unit_of_work", default=None)


def _committing(endpoint: Callable[..., Any], status_code: int | None) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        raise TypeError("TransactionalRoute endpoints are sync functions; they run in the thread pool")

    @functools.wraps(endpoint)
    def run_and_commit(*args: Any, **kwargs: Any) -> Any:
        uow = _unit_of_work.get()
        try:
            result = endpoint(*args, **kwargs)
            if isinstance(result, Response):
                response = result
            else:
                # Serialised once here (Pydantic, Decimal as string); FastAPI passes a Response on.
                response = Response(
                    pydantic_core.to_json(result),
                    status_code=status_code or 200,
                    media_type="application/json",
                )
            if uow is not None:
                response = uow.commit(response)
            return response
        except BaseException:
            if uow is not None:
                uow.rollback()
            raise

    return run_and_commit


_READING_METHODS = frozenset({"GET", "HEAD"})


async def _parsed_body(request: ExactJSONRequest) -> Any:
    """The JSON body, or None when there is none or it does not parse (FastAPI reports that)."""
    if not request.state.raw_body:
        return None
    try:
        return await request.json()
    except (ValueError, RecursionError):
        return None


class TransactionalRoute(APIRoute):
    """GET and HEAD read; other methods write."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _committing(endpoint, kwargs.get("status_code")), **kwargs)
        self.access = self.access_for(frozenset(self.methods))

    def access_for(self, methods: frozenset[str]) -> Access:
        return Access.READ if methods <= _READING_METHODS else Access.WRITE

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def transactional_handler(request: Request) -> Response:
            request = ExactJSONRequest(request.scope, request.receive)
            # Read now so dependencies (idempotency) can hash the exact bytes the handler parses.
            request.state.raw_body = await request.body()
            refuse_illegal_text(
                request.query_params.multi_items(), request.path_params.items(), await _parsed_body(request)
            )
            state = request.app.state
            factory = state.read_session_factory if self.access is Access.READ else state.session_factory
            uow = UnitOfWork(factory(), request)
            request.state.session = uow.session
            token = _unit_of_work.set(uow)
            try:
                return await handler(request)
            except IdempotentReplay as replay:
                await run_in_threadpool(uow.rollback)
                return replay.response()
            finally:
                _unit_of_work.reset(token)
                if not uow.finished:
                    await run_in_threadpool(uow.rollback)

        return transactional_handler


class WritingRoute(TransactionalRoute):
    """Every method writes: for GETs that store what they compute (documents on first request)."""

    def access_for(self, methods: frozenset[str]) -> Access:
        return Access.WRITE
