"""Tumour evolution under regimens, sequential vs upfront combinations (planned: issue 19; no code yet)."""
