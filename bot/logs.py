"""Logging set-up: personal data (phone numbers) never reaches a log line."""
from __future__ import annotations

import logging

from nlp.slots import mask_phones


class MaskPersonalData(logging.Filter):
    """Rewrites each record's message with phone numbers masked (138****5678)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:   # a broken format string is the caller's bug; leave the record alone
            return True
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure(level: int = logging.INFO) -> None:
    """Once per process: a plain format, and the masking filter on every root handler."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if not any(isinstance(f, MaskPersonalData) for f in handler.filters):
            handler.addFilter(MaskPersonalData())
