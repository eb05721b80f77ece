"""The outbox loop rides out a database outage saying so once: one line when it starts, one when
it ends, no traceback per pass (faktur.outbox.OutboxLoop.run). On a private PostgreSQL cluster
(initdb/pg_ctl), stopped like a crash and started again; never the shared server."""

from __future__ import annotations

import logging
import time

import pytest
from private_postgres import PrivateCluster, binaries

from faktur.config import Settings
from faktur.db import make_engine, make_session_factory
from faktur.migrations import upgrade_to_head
from faktur.outbox import OutboxLoop, make_drains

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(binaries() is None, reason="needs PostgreSQL's initdb and pg_ctl"),
]


def test_the_outbox_loop_reports_an_outage_once(caplog: pytest.LogCaptureFixture) -> None:
    cluster = PrivateCluster()
    cluster.start()
    try:
        url = cluster.create_database("faktur")
        upgrade_to_head(url)
        engine = make_engine(url)
        settings = Settings(database_url=url, create_demo_organisation=False)
        loop = OutboxLoop(make_drains(make_session_factory(engine), settings), poll_seconds=0.05)
        with caplog.at_level(logging.INFO, logger="faktur.outbox"):
            loop.start()
            time.sleep(0.5)
            cluster.stop("immediate")
            time.sleep(3)  # some 60 passes at the poll interval, had the loop not waited
            cluster.start()
            deadline = time.monotonic() + 30
            while not any("is back after" in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
                time.sleep(0.1)
            loop.stop()
        engine.dispose()
    finally:
        cluster.destroy()
    messages = [r.getMessage() for r in caplog.records if r.name == "faktur.outbox"]
    assert [m for m in messages if "cannot be reached" in m] == [messages[0]], messages
    assert len([m for m in messages if "is back after" in m]) == 1, messages
    assert not [r for r in caplog.records if r.name == "faktur.outbox" and r.levelno >= logging.ERROR]
