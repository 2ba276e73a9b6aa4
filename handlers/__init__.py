"""Telegram adapters: one module per flow, each with register(application).

The order matters: the profile flow sees text before the question handler does.
"""

from handlers import errors, other, profile, questions, start

HANDLER_MODULES = (start, profile, questions, other)

__all__ = ["HANDLER_MODULES", "errors"]
