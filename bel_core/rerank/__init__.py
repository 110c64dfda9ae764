"""Reranking: the BASILISK-style cross-encoder that rescores retrieved candidates in context."""
