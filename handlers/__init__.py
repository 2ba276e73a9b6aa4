"""Telegram adapters: one module per flow, each with register(application).

The order matters: the profile flow sees text before the question handler does.
"""

from handlers import (
    bulletin,
    errors,
    handoff,
    other,
    profile,
    questions,
    review,
    staff,
    start,
    subscriptions,
)

HANDLER_MODULES = (
    staff,
    start,
    handoff,
    profile,
    subscriptions,
    bulletin,
    questions,
    review,
    other,
)

__all__ = ["HANDLER_MODULES", "errors"]
