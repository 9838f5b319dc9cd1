"""Words for people: a status and a decision as terminal text, and the camera preview banner.

Shared by the CLI and the demo; the desk page has its own view model (`verify.desk.view`).
The preview window (`verify.present.preview`) needs OpenCV and Tk and is not imported here.
"""

from __future__ import annotations

from verify.present.decision import render_decision
from verify.present.status import render_refusal, render_status

__all__ = ["render_decision", "render_refusal", "render_status"]
