"""Named crash points for fault tests: ``PERSONA_STUDIO_FAULT=<point>`` makes the process
exit at once (``os._exit``: no cleanup, no ``finally``, like a kill) when it reaches that
point. Unset, a point costs one dictionary look-up.

Points: ``inbox-written`` (the collector renamed a request's file into the inbox, before it
recorded the event ids or answered), ``before-commit`` (a live add wrote every table inside
its transaction, before the commit), ``after-commit`` (the updater's batch committed, before
the inbox files were deleted).
"""

from __future__ import annotations

import os

ENV = "PERSONA_STUDIO_FAULT"
EXIT_CODE = 86
POINTS = ("inbox-written", "before-commit", "after-commit")


def point(name: str) -> None:
    """Exit the process now when ``$PERSONA_STUDIO_FAULT`` names this point."""
    if os.environ.get(ENV) == name:
        os._exit(EXIT_CODE)
