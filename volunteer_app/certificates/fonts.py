"""The Chinese font of the certificate: Noto Sans SC (SIL OFL 1.1) from the `pylopdf-fonts-zh-cn` package.

The package ships the font with PostScript (CFF, CID-keyed) outlines. Embedded as they are, PDF readers such
as pypdf cannot map the text back to characters (the CID-keyed encoding needs an embedded CMap). So each
document gets a small TrueType font with only the characters it uses: every glyph is converted once per
process (cubic to quadratic curves, ~1 ms a glyph) and kept, and the document's font is built from the kept
glyphs in a few milliseconds. fpdf2 then embeds it as a subset with a ToUnicode map, so the text is
extractable and searchable, and no character falls back to a box.
"""
from __future__ import annotations

import io
import threading

import pylopdf_fonts_zh_cn
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont

FAMILY = "NotoSansSC"
_lock = threading.Lock()
_source: TTFont | None = None
_cmap: dict[int, str] = {}
_glyph_set: dict = {}
_glyphs: dict[str, tuple[object, int]] = {}  # source glyph name -> (TrueType glyph, advance width)


def font_bytes(text: str) -> bytes:
    """A TrueType font (bytes) with the glyphs of every character in text that Noto Sans SC has."""
    with _lock:
        source = _load()
        chars = sorted({ord(c) for c in text if ord(c) in _cmap} | {0x20})
        names = [".notdef"] + sorted({_cmap[c] for c in chars})
        for name in names:
            if name not in _glyphs:
                _glyphs[name] = _convert(source, name)
        upem = source["head"].unitsPerEm
        hhea = source["hhea"]
        os2 = source["OS/2"]
    builder = FontBuilder(upem, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({c: _cmap[c] for c in chars})
    builder.setupGlyf({name: _glyphs[name][0] for name in names})
    builder.setupHorizontalMetrics({name: (_glyphs[name][1], getattr(_glyphs[name][0], "xMin", 0) or 0)
                                    for name in names})
    builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent)
    builder.setupNameTable({"familyName": "Noto Sans SC", "styleName": "Regular", "psName": FAMILY})
    builder.setupOS2(sTypoAscender=os2.sTypoAscender, sTypoDescender=os2.sTypoDescender,
                     usWinAscent=os2.usWinAscent, usWinDescent=os2.usWinDescent,
                     sCapHeight=getattr(os2, "sCapHeight", hhea.ascent), usWeightClass=400)
    builder.setupPost()
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


def missing(text: str) -> set[str]:
    """Characters of text the font cannot draw (they would show as boxes)."""
    with _lock:
        _load()
        return {c for c in text if ord(c) not in _cmap and not c.isspace()}


def _load() -> TTFont:
    global _source
    if _source is None:
        source = TTFont(str(pylopdf_fonts_zh_cn.sans_path()), lazy=True)
        _cmap.update(source.getBestCmap())
        _glyph_set["set"] = source.getGlyphSet()
        _source = source
    return _source


def _convert(source: TTFont, name: str) -> tuple[object, int]:
    pen = TTGlyphPen(None)
    _glyph_set["set"][name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
    glyph = pen.glyph()
    if glyph.numberOfContours:
        glyph.recalcBounds(None)
    return glyph, source["hmtx"][name][0]
