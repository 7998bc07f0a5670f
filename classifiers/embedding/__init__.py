"""Sentence-embedding runtime: all-MiniLM-L6-v2 in onnxruntime (see MODEL_CARD.md).

Data and a small numpy/onnxruntime wrapper only; no ``guard`` imports (arrows point
guard -> classifiers, never back).
"""
