"""BEL Curator: the Streamlit entry point. A router only; each page lives in ``pages/``.

Run with ``streamlit run app.py``. Configuration comes from ``BEL_CONFIG`` (a TOML file)
and ``BEL_*`` environment variables, read once by ``pages/components/resources.py``.
With ``auth_required = true`` the only page until a curator logs in is the account
(login) page; the pages each role sees are listed here.

Users never see a traceback: an unexpected error is logged with a short reference id and
the page shows only that id (``client.showErrorDetails = "none"`` covers what escapes
here). Serving beyond this machine without logins is refused: with ``auth_required =
false`` everyone who can reach the port is an admin.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets

import streamlit as st

from bel_core.errors import BelError
from db.models import Role
from pages.components.auth_gate import current_user, routed
from pages.components.resources import get_settings
from pages.components.widgets import md

# basicConfig is a no-op once the root logger has a handler, so reruns do not stack handlers.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logger = logging.getLogger("bel_curator.app")

st.set_page_config(page_title="BEL Curator", layout="wide")


def _loopback(address: str) -> bool:
    """True for addresses only this machine can reach ("" means every interface)."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name or ""
        return False


settings = get_settings()
address = str(st.get_option("server.address") or "")
if not settings.auth_required and not _loopback(address):
    logger.error("refusing to serve on %r without logins (auth_required = false)", address)
    st.error(
        f"This server listens on {md(address) if address else 'every network interface'}, but logins are "
        "off: anyone who can reach it would act as an admin. Serve on 127.0.0.1 (`server.address` in "
        "`.streamlit/config.toml`, the default), or turn logins on: create an admin with "
        "`bel user add NAME --role admin`, then set `auth_required = true` in the `BEL_CONFIG` file "
        "(or `BEL_AUTH_REQUIRED=1`) and restart."
    )
    st.stop()
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
    with routed():
        navigation.run()
except BelError as error:
    # Pages handle the errors they expect; anything from bel_core/db that slips through is
    # still a user-facing condition (its message says what to fix), not a crash.
    logger.warning("unhandled %s on page %s: %s", type(error).__name__, navigation.title, error)
    st.error(md(error))
except Exception:  # st.stop / st.rerun are BaseExceptions and pass through
    reference = secrets.token_hex(4)
    logger.exception("error %s on page %s", reference, navigation.title)
    st.error(
        f"Something went wrong on this page (reference {reference}). Nothing was lost; reload the page to "
        "try again, and give the reference to whoever runs the server: the details are in its log."
    )
