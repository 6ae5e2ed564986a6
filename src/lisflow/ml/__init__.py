"""Descriptor machine learning of paper 002 (SCIENCE.md ``descriptor_ml``).

Features of M–N4/M1M2–N6 sites (:mod:`~lisflow.ml.features`), three-stage selection with
nested cross-validation (:mod:`~lisflow.ml.selection`, :mod:`~lisflow.ml.pipeline`), outputs
and plots (:mod:`~lisflow.ml.explain`), training tables (:mod:`~lisflow.ml.tables`), synthetic
benchmarks (:mod:`~lisflow.ml.datasets`) and screening (:mod:`~lisflow.ml.screen`).
"""
