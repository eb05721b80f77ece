"""Compatibility dialects: other invoicing APIs spoken on their own prefixes, over faktur's core."""

from __future__ import annotations

from fastapi import FastAPI

from faktur.dialects import axim, iw_erp, wingback, wizcommerce, zenskar


def install_dialects(app: FastAPI) -> None:
    """Mount every dialect and register its error shape for its prefix."""
    for dialect in (wingback, zenskar, wizcommerce, iw_erp, axim):
        app.include_router(dialect.router)
        app.state.error_renderers.append((dialect.PREFIX, dialect.render_error))
