"""Curated knowledge: resistance positions, bypass alterations, drugs, therapies.

Use :func:`load_knowledge` to get the shipped base (optionally merged with a
lab's files); every fact carries evidence and a review status.
"""

from trkres.knowledge.loader import ValidationReport, load_knowledge, validate_files
from trkres.knowledge.store import KnowledgeBase

__all__ = ["KnowledgeBase", "ValidationReport", "load_knowledge", "validate_files"]
