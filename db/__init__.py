"""Storage layer of BEL Curator: SQLAlchemy models, Alembic migrations, repository and use cases.

Depends on ``bel_core`` data types only; linking models reach it through the
``bel_core.linking.pipeline.Linker`` protocol, so importing ``db`` never loads torch.
"""
