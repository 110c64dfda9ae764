"""Alembic environment and revisions for the curation store (see ``db.engine.upgrade``)."""
