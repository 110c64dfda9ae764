"""Explanations: word attributions (captum Integrated Gradients) for the scores a curator sees."""
