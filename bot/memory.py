"""Keep the garbage collector's full passes short.

What the bot loads at start-up (the knowledge index, the libraries' classes and tables) lives as
long as the process, yet every full collection walked all of it: pauses of 100-200 ms in the
middle of a burst of questions (bench/e2e.py). Frozen objects are left out of collections.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what start-up (or a knowledge reload) left behind, then freeze the rest."""
    gc.collect()
    gc.freeze()
