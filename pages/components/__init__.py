"""Streamlit-only glue shared by the pages: cached resources, session state, HTML widgets."""
