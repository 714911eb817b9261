"""`mmtop report`: one self-contained HTML file for runs (one, or a comparison) or for a
model version (its card), built from the same readers as `mmtop diff`, the compare screen
and `mmtop models show`.

Everything a run logged is untrusted: it only ever reaches the page through `page.text`
(escaped, control characters shown as in the terminal), never as markup, attribute names,
URLs or styles. The page carries a Content-Security-Policy that allows no script and no
fetch at all, so a slip in escaping still runs nothing and loads nothing.
"""
