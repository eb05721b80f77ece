"""The SEPA GiroCode on the PDF: segno's modules drawn as vector rectangles (sharp at any zoom).

Drawn straight onto the page as one filled path (one rectangle per run of dark modules in a row):
a reportlab `Drawing` of ~450 `Rect` shapes cost ~70 ms per PDF to build and render, more than the
rest of a one-page invoice.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from faktur.payment_qr import giro_code

SIZE = 30 * mm  # float-ok: points; EPC recommends at least 2 cm without the quiet zone


def dark_runs(payload: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The symbol's size in modules (quiet zone included) and its dark runs: (row, first column,
    length), row 0 at the top."""
    rows = [list(row) for row in giro_code(payload).matrix_iter(scale=1, border=4)]
    runs: list[tuple[int, int, int]] = []
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            end = x
            while end < len(row) and row[end]:
                end += 1
            runs.append((y, x, end - x))
            x = end
    return len(rows), runs


class GiroCode(Flowable):
    """The GiroCode of `payload`, SIZE x SIZE points, in black on the page's background."""

    def __init__(self, payload: str) -> None:
        super().__init__()
        self.modules, self.runs = dark_runs(payload)
        self.width = self.height = SIZE

    def wrap(self, width: float, height: float) -> tuple[float, float]:  # float-ok: points
        return SIZE, SIZE

    def draw(self) -> None:
        module = SIZE / self.modules
        canvas = self.canv
        path = canvas.beginPath()
        for y, x, length in self.runs:
            path.rect(x * module, SIZE - (y + 1) * module, length * module, module)
        canvas.setFillGray(0)
        canvas.drawPath(path, stroke=0, fill=1)
