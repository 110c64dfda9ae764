"""BEL Curator: the Streamlit entry point. A router only; each page lives in ``pages/``.

Run with ``streamlit run app.py``. Configuration comes from ``BEL_CONFIG`` (a TOML file)
and ``BEL_*`` environment variables, read once by ``pages/components/resources.py``.
With ``auth_required = true`` the only page until a curator logs in is the account
(login) page; the pages each role sees are listed here.
"""

from __future__ import annotations

import logging

import streamlit as st

from bel_core.errors import BelError
from db.models import Role
from pages.components.auth_gate import current_user
from pages.components.resources import get_settings
from pages.components.widgets import md

# basicConfig is a no-op once the root logger has a handler, so reruns do not stack handlers.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logger = logging.getLogger("bel_curator.app")

st.set_page_config(page_title="BEL Curator", layout="wide")

settings = get_settings()
user = current_user(settings)
# With logins on, the account page is always listed: the page a curator logs in on stays
# valid after the login, instead of vanishing from under them.
account = [st.Page("pages/login.py", title="Account", icon=":material/login:", default=user is None)]
pages = account if settings.auth_required else []
if user is not None:
    pages += [
        st.Page("pages/documents.py", title="Documents", icon=":material/description:", default=True),
        st.Page("pages/review.py", title="Review", icon=":material/fact_check:"),
    ]
    if user.can(Role.ADJUDICATOR):
        pages.append(st.Page("pages/adjudicate.py", title="Adjudicate", icon=":material/gavel:"))
    pages.append(st.Page("pages/quality.py", title="Quality", icon=":material/insights:"))
    if user.can(Role.ADMIN):
        pages.append(st.Page("pages/team.py", title="Team", icon=":material/group:"))
    pages += [
        st.Page("pages/export.py", title="Export", icon=":material/download:"),
        st.Page("pages/status.py", title="Models & KB", icon=":material/monitoring:"),
        st.Page("pages/models.py", title="Model versions", icon=":material/model_training:"),
    ]

navigation = st.navigation(pages)

try:
    navigation.run()
except BelError as error:
    # Pages handle the errors they expect; anything from bel_core/db that slips through is
    # still a user-facing condition (its message says what to fix), not a crash.
    logger.warning("unhandled %s on page %s: %s", type(error).__name__, navigation.title, error)
    st.error(md(error))
