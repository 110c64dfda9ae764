"""Generative entity linking: a causal or seq2seq LM writes KB names under a trie constraint (see linker.py)."""
