"""Use cases: what a curator or an operator does, over the store in ``db``.

Ingest, link, decide, curate, review, export, serve the linker, retrain, manage accounts.
The pages and the CLI both call these, so each use case has one path; each runs inside a
transaction the caller owns (``with store.begin() as session:``), one per user action.
"""
