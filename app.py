"""BEL Curator: the Streamlit entry point. A router only; each page lives in ``pages/``.

Run with ``streamlit run app.py``. Configuration comes from ``BEL_CONFIG`` (a TOML file)
and ``BEL_*`` environment variables, read once by ``pages/components/resources.py``.
"""

from __future__ import annotations

import logging

import streamlit as st

from bel_core.errors import BelError
from pages.components.widgets import md

# basicConfig is a no-op once the root logger has a handler, so reruns do not stack handlers.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logger = logging.getLogger("bel_curator.app")

st.set_page_config(page_title="BEL Curator", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/documents.py", title="Documents", icon=":material/description:", default=True),
        st.Page("pages/review.py", title="Review", icon=":material/fact_check:"),
        st.Page("pages/export.py", title="Export", icon=":material/download:"),
        st.Page("pages/status.py", title="Models & KB", icon=":material/monitoring:"),
    ]
)

try:
    navigation.run()
except BelError as error:
    # Pages handle the errors they expect; anything from bel_core/db that slips through is
    # still a user-facing condition (its message says what to fix), not a crash.
    logger.warning("unhandled %s on page %s: %s", type(error).__name__, navigation.title, error)
    st.error(md(error))
