"""The SEPA GiroCode on the PDF: segno's modules drawn as vector rectangles (sharp at any zoom)."""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib.colors import black
from reportlab.lib.units import mm

from faktur.payment_qr import giro_code

SIZE = 30 * mm  # float-ok: points; EPC recommends at least 2 cm without the quiet zone


def giro_code_drawing(payload: str, font: str) -> Drawing:
    """`font`: an embedded font; reportlab sets one for every drawing (Helvetica, not embedded,
    unless told), and PDF/A allows no font that is not embedded."""
    rows = [list(row) for row in giro_code(payload).matrix_iter(scale=1, border=4)]
    module = SIZE / len(rows)
    drawing = Drawing(SIZE, SIZE, initialFontName=font)
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            run = x
            while run < len(row) and row[run]:
                run += 1
            # One rectangle per run of dark modules: fewer objects than one per module.
            top = SIZE - (y + 1) * module
            rect = Rect(x * module, top, (run - x) * module, module)
            rect.fillColor, rect.strokeColor = black, None
            drawing.add(rect)
            x = run
    return drawing
