"""Streamlit page scripts, listed explicitly by ``app.py`` through ``st.navigation``."""
