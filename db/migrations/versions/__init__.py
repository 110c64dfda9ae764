"""Alembic revisions, one file per schema change, applied in order by ``db.engine.upgrade``."""
