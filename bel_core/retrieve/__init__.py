"""Candidate generation: character n-gram TF-IDF, the dense encoder over a faiss index, their fusion, and link priors learnt from training mentions."""
