"""The advice knowledge base: typed models, a validating loader and a phone-sized renderer.

The texts live in data/knowledge/*.yml so that a support lead can edit them without touching code.
"""

from pos_assistant.knowledge.loader import KnowledgeError, get_knowledge_base, load_knowledge_base
from pos_assistant.knowledge.models import KnowledgeBase, Situation
from pos_assistant.knowledge.prefill import detect_answer
from pos_assistant.knowledge.renderer import (
    FIRST_BUBBLE_CHARS,
    MAX_MESSAGE_CHARS,
    render_details,
    render_faq,
    render_legal,
    render_situation,
)

__all__ = [
    "FIRST_BUBBLE_CHARS",
    "MAX_MESSAGE_CHARS",
    "KnowledgeBase",
    "KnowledgeError",
    "Situation",
    "detect_answer",
    "get_knowledge_base",
    "load_knowledge_base",
    "render_details",
    "render_faq",
    "render_legal",
    "render_situation",
]
