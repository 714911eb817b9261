"""Making untrusted text (run names, params, notes, console output) inert for a terminal.

Rich markup is never interpreted when text goes through `rich.text.Text` (not a markup
string); what is left to neutralise are terminal control and escape sequences, which this
module replaces with visible, harmless stand-ins.
"""

from __future__ import annotations

import re

from rich.text import Text

# ESC-introduced sequences (CSI, OSC, DCS, ...) and lone C0/C1 controls, except tab/newline.
_ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS/SOS/PM/APC ... ST
    r"|\x1b[@-Z\\-_]?"  # other two-byte escapes, or a lone ESC
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400 block: ␀ ␁ ... shows what was there
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def clean(text: object, *, single_line: bool = False) -> str:
    """Plain string with escape sequences removed and control characters made visible."""
    s = text if isinstance(text, str) else str(text)
    s = _ANSI_RE.sub("", s)
    if single_line:
        s = s.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    else:
        s = s.replace("\r\n", "\n")
    return _CONTROL_RE.sub(_visible, s)


def safe(text: object, style: str = "", *, single_line: bool = False) -> Text:
    """A Rich Text that shows `text` literally: markup inert, escapes neutralised."""
    return Text(clean(text, single_line=single_line), style=style, no_wrap=single_line)
