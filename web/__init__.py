"""The demo web page and chat widget, served by web/server.py."""
