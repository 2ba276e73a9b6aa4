"""Telegram adapters: one module per flow, each with register(application).

The order matters: the profile flow sees text before the question handler does.
"""

from handlers import errors, handoff, other, profile, questions, review, staff, start

HANDLER_MODULES = (staff, start, handoff, profile, questions, review, other)

__all__ = ["HANDLER_MODULES", "errors"]
