"""The reception desk: the daemon, its config, events, logs, and the desk page's web server.

    daemon = Daemon(config, checker=checker, sinks=[desk_state])   # one event per scan
    DeskServer(("127.0.0.1", 8765), desk_state)                     # the page staff look at

Everything here is I/O around `verify.check`; no identifier reaches disk or logs by default.
"""

from __future__ import annotations

from verify.desk.config import DaemonConfig, build_config, load_config
from verify.desk.daemon import Daemon
from verify.desk.events import Event

__all__ = ["Daemon", "DaemonConfig", "Event", "build_config", "load_config"]
