"""The store's tests run on real SQLite and real PostgreSQL, both through the migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'prescale.sqlite'}"
    pg: str = request.getfixturevalue("postgres_url")
    # Each test starts from an empty schema on the shared cluster.
    engine = sa.create_engine(pg)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return pg
