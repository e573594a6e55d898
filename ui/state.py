"""Every session-state key of the app, and the small values kept under them.

The active workspace lives in the URL (``?ws=<slug>``) so that a reload, a new tab or a
shared link opens the same data; the session keeps a copy so that moving between pages
(which clears the URL's parameters) puts it back.
"""

from __future__ import annotations

WS = "ps_ws"  # slug of the active workspace (mirrors ?ws=)
PICKER = "ps_dataset_picker"  # the sidebar's workspace selectbox
USER_PICK = "ps_user_pick"  # the user shown on the User profile page
USER_SEGMENT = "ps_user_segment"  # the segment the User profile page picks users from
JUST_LOADED = "ps_just_loaded"  # message about a workspace saved or extended by the last run
SAMPLE_KEY = "sample"  # slug of the built-in sample store workspace
WS_PARAM = "ws"  # URL parameter naming the workspace
USER_PARAM = "user"  # URL parameter naming the user on the User profile page
LANG = "ps_lang"  # the language this session shows (mirrors ?lang=)
LANG_PICK = "ps_lang_pick"  # the sidebar's language switch
LANG_PARAM = "lang"  # URL parameter naming the language ("en", "zh")
LANG_COOKIE = "ps_lang"  # the browser's remembered language, read on a first visit
