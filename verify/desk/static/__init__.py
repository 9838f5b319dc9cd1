"""The desk screen: a local web page fed by the daemon (server.py, desk.py, static assets)."""
