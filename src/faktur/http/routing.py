"""The unit of work of one request: a session opened before the handler, committed right after it.

The route class, not the services, owns the transaction (services only flush). The endpoint is
wrapped so that serialising the response, storing it for its Idempotency-Key and committing all
happen in the endpoint's own worker thread, straight after it returns: locks taken by the
request (the invoice-number counter above all) are held no longer than the work itself. An
endpoint that issues an invoice goes further: it registers the number's taking as a last step
(`UnitOfWork.before_commit`), run after its response is rendered, and the number is put into the
response where the rendering showed it pending (faktur.pending).
A retry with the same key either replays the stored response or, if the first attempt rolled
back, does the work once.

Every POST route claims its Idempotency-Key through a dependency of its own
(faktur.http.idempotency), added here after the endpoint's own dependencies: no endpoint or
dialect declares it, so none can forget it.

Each route says whether its unit of work reads or writes (`Access`): a `TransactionalRoute`
reads for GET and HEAD and writes for every other method; a `WritingRoute` writes for every
method (a GET that stores what it computes); a `ComputingRoute` reads for every method (a POST
that stores nothing: the previews) and claims no Idempotency-Key. On SQLite a reader is a WAL
reader that never waits for the write lock; a writer holds it from its first statement (the API
key is read before, by a WAL reader: faktur.auth), and the writers of one server process take
turns (faktur.http.writer_turns).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

import pydantic_core
from fastapi import Depends
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from faktur.db import Access
from faktur.http.idempotency import claim_idempotency_key
from faktur.http.input_text import refuse_illegal_text
from faktur.http.requests import ExactJSONRequest
from faktur.http.writer_turns import WriterTurns
from faktur.idempotency.service import IdempotentReplay, record_response
from faktur.pending import Decided


@dataclass
class UnitOfWork:
    session: Session
    request: Request
    finished: bool = False
    last_steps: list[Callable[[], Decided | None]] = field(default_factory=list)

    def before_commit(self, step: Callable[[], Decided | None]) -> None:
        """Run `step` as the transaction's last statements, after the response is rendered and
        just before COMMIT; a value it decides (an invoice's number) is put into the response
        where the endpoint rendered its pending placeholder (faktur.pending)."""
        self.last_steps.append(step)

    def commit(self, response: Response) -> Response:
        """Run the last steps, store the response for the request's Idempotency-Key, commit;
        returns the response (with the values the last steps decided)."""
        decided = [value for step in self.last_steps if (value := step()) is not None]
        if decided:
            response = _with_decided(response, decided)
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


async def get_unit_of_work(request: Request) -> UnitOfWork:
    """The request's unit of work (for an endpoint that adds a last step to it)."""
    return cast(UnitOfWork, request.state.unit_of_work)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_unit_of_work)]


def _with_decided(response: Response, decided: list[Decided]) -> Response:
    body = bytes(response.body)
    for value in decided:
        body = value.pending.fill_bytes(body, value.value)
    headers = {name: value for name, value in response.headers.items() if name != "content-length"}
    return Response(body, status_code=response.status_code, headers=headers)


_unit_of_work: ContextVar[UnitOfWork | None] = ContextVar("faktur_unit_of_work", default=None)


# The name of the parameter the idempotency dependency is solved into; never passed on.
_IDEMPOTENCY_PARAMETER = "faktur_idempotency_key"


def _claiming_idempotency(endpoint: Callable[..., Any]) -> inspect.Signature:
    """The endpoint's signature with the idempotency dependency as its last parameter: FastAPI
    solves dependencies in parameter order, so it runs after authentication."""
    # Annotations stay as written: FastAPI resolves them in the endpoint's module, as it would.
    signature = inspect.signature(endpoint)
    if _IDEMPOTENCY_PARAMETER in signature.parameters:
        raise TypeError(f"{endpoint.__qualname__} may not name a parameter {_IDEMPOTENCY_PARAMETER}")
    claim = inspect.Parameter(
        _IDEMPOTENCY_PARAMETER,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[None, Depends(claim_idempotency_key)],
    )
    return signature.replace(parameters=[*signature.parameters.values(), claim])


def _committing(
    endpoint: Callable[..., Any], status_code: int | None, *, claims_idempotency: bool
) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        raise TypeError("TransactionalRoute endpoints are sync functions; they run in the thread pool")

    @functools.wraps(endpoint)
    def run_and_commit(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop(_IDEMPOTENCY_PARAMETER, None)
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

    if claims_idempotency:
        # FastAPI reads the parameters (and so the dependencies) from __signature__.
        cast(Any, run_and_commit).__signature__ = _claiming_idempotency(endpoint)
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


def _replayed(replay: IdempotentReplay) -> Response:
    return Response(
        replay.body,
        status_code=replay.status_code,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


class TransactionalRoute(APIRoute):
    """GET and HEAD read; other methods write. POST routes claim their Idempotency-Key."""

    # Whether the route's POSTs claim their Idempotency-Key (ComputingRoute's do not).
    claims_idempotency_keys = True

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        posts = "POST" in {method.upper() for method in kwargs.get("methods") or ()}
        claims = posts and self.claims_idempotency_keys
        wrapped = _committing(endpoint, kwargs.get("status_code"), claims_idempotency=claims)
        super().__init__(path, wrapped, **kwargs)
        self.access = self.access_for(frozenset(self.methods or ()))  # APIRoute has set them

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
            if self.access is Access.READ:
                return await self._handle(handler, request, state.read_session_factory)
            turns: WriterTurns | None = getattr(state, "writer_turns", None)
            if turns is None:
                return await self._handle(handler, request, state.session_factory)
            async with turns.turn():
                return await self._handle(handler, request, state.session_factory)

        return transactional_handler

    @staticmethod
    async def _handle(
        handler: Callable[[Request], Coroutine[Any, Any, Response]],
        request: Request,
        factory: Callable[[], Session],
    ) -> Response:
        uow = UnitOfWork(factory(), request)
        request.state.session = uow.session
        request.state.unit_of_work = uow
        token = _unit_of_work.set(uow)
        try:
            return await handler(request)
        except IdempotentReplay as replay:
            await run_in_threadpool(uow.rollback)
            return _replayed(replay)
        finally:
            _unit_of_work.reset(token)
            if not uow.finished:
                await run_in_threadpool(uow.rollback)


class ComputingRoute(TransactionalRoute):
    """A POST that computes from what is stored and stores nothing (the previews): its unit of
    work reads (on SQLite a WAL reader, which never waits for the write lock nor takes it), and
    it claims no Idempotency-Key, since a retry repeats nothing (a key sent with it stays free for
    the request that stores)."""

    claims_idempotency_keys = False

    def access_for(self, methods: frozenset[str]) -> Access:
        return Access.READ


class WritingRoute(TransactionalRoute):
    """Every method writes: for GETs that store what they compute (documents on first request)."""

    def access_for(self, methods: frozenset[str]) -> Access:
        return Access.WRITE
