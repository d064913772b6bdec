"""Which engine decides intents and complaint categories: the learned model or the older rules.

NLP_ENGINE=model|rules (environment). The rules (nlp/data/intents.yaml) stay as a fallback an
operator can switch back to, and as a second opinion for the labelling loop.
"""
from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)
ENGINES = ("model", "rules")
DEFAULT = "model"
_warned: set[str] = set()


def current() -> str:
    """The engine named by NLP_ENGINE, else the default (an unknown name is logged once)."""
    name = os.environ.get("NLP_ENGINE", "").strip().lower()
    if not name:
        return DEFAULT
    if name not in ENGINES:
        if name not in _warned:
            _warned.add(name)
            log.warning("NLP_ENGINE=%r is not one of %s: using %s", name, ENGINES, DEFAULT)
        return DEFAULT
    return name
