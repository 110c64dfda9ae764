"""Calibration: turning retrieval scores and reranker margins into P(candidate is right), and measuring it (ECE, Brier, reliability bins)."""
