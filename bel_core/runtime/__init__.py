"""Model runtime: ONNX Runtime export and sessions for the encoders, and the self-describing model directory."""
