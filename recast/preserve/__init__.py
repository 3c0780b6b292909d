"""Preserved networks: cards, export, import, checks, input building and ONNX sessions."""
