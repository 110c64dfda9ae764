"""Training the linker's models: reranker pairs, synthetic mentions, cross- and bi-encoders.

Modules: ``pairs`` (gold mentions from corpora, document splits, hard-negative pairs),
``synthetic`` (gold mentions generated from KB names alone), ``cross_encoder`` (reranker
training + calibration), ``bi_encoder`` (SapBERT-style retriever fine-tuning), ``metrics``
(pair accuracy/P/R/F1/ECE/Brier). torch loads only when a trainer runs.
"""

from __future__ import annotations
