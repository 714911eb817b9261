"""Making untrusted text (run names, params, notes, console output) inert for a terminal.

Rich markup is never interpreted when text goes through `rich.text.Text` (not a markup
string); what is left to neutralise are terminal control and escape sequences, which this
module replaces with visible, harmless stand-ins.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from rich.markdown import Markdown

# ESC-introduced sequences (CSI, OSC, DCS, ...) and lone C0/C1 controls, except tab/newline.
_ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS/SOS/PM/APC ... ST
    r"|\x1b[@-Z\\-_]?"  # other two-byte escapes, or a lone ESC
)
# Characters a terminal obeys or that reorder what is shown, as (first, last) code points:
# C0 but tab and newline, DEL and C1, line/paragraph separators, and the bidi controls
# (marks U+200E/U+200F/U+061C, embeddings and overrides U+202A-U+202E, isolates
# U+2066-U+2069) that can make `evil.exe\u202Etxt.sh` read as something else.
CONTROL_RANGES = (
    (0x00, 0x08),
    (0x0B, 0x1F),
    (0x7F, 0x9F),
    (0x061C, 0x061C),
    (0x200E, 0x200F),
    (0x2028, 0x2029),
    (0x202A, 0x202E),
    (0x2066, 0x2069),
)


def _char_class(fmt: str) -> str:
    parts = (
        fmt.format(a) if a == b else fmt.format(a) + "-" + fmt.format(b) for a, b in CONTROL_RANGES
    )
    return "[" + "".join(parts) + "]"


# The same class for Python's re and for polars (Rust regex), so a vectorised check and
# `clean` agree on which text needs cleaning.
CONTROL_PATTERN = _char_class("\\u{:04x}")
CONTROL_PATTERN_PL = _char_class("\\x{{{:x}}}")
_CONTROL_RE = re.compile(CONTROL_PATTERN)


def _visible(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400 block: ␀ ␁ ... shows what was there
    if code == 0x7F:
        return "\u2421"
    # No symbol exists for these: spell the code point, so a reader sees what was hidden.
    return f"<U+{code:04X}>"


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


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def json_inert(text: str) -> str:
    """JSON text with every control and bidi character written as a \\uXXXX escape.

    JSON's structure is ASCII, so such characters can only sit inside strings, where the
    escape means the same character: the data stays exact, the bytes cannot act.
    """
    return _CONTROL_RE.sub(_json_escape, text)


def safe_markdown(text: object) -> Markdown:
    """Untrusted Markdown (run notes) rendered inert: escape sequences removed and control
    characters made visible before parsing, links shown as `text (url)` instead of terminal
    hyperlinks (nothing to click or follow), raw HTML dropped by the parser, and Rich markup
    such as `[red]x[/red]` shown as typed (Markdown text is never read as markup)."""
    from rich.markdown import Markdown  # markdown-it: only the app's Overview needs it

    return Markdown(clean(text), hyperlinks=False)
