"""Trade documents on paper: the UN Layout Key (UNECE Recommendation No. 1, ISO 6422) drawn with reportlab.

One A4 frame, 20 mm from the left edge and 183 mm wide (the Layout Key's image area), cut into the
standard boxes::

    +--------------------------+--------------------------+
    | seller / exporter        | document name            |
    |                          | number       | date      |
    |                          | references               |
    +--------------------------+--------------------------+
    | consignee                | buyer (or declarant)     |
    +--------------------------+--------------------------+
    | mode       | departure   | countries of origin/dest.|
    | loading    | discharge   | terms of delivery        |
    +--------------------------+--------------------------+
    | item | packages | description | code | quantities, masses, values |  (repeats on every page)
    | ...                                                               |
    | totals                                                            |
    +--------------------------+--------------------------+
    | totals / declaration     | place and date of issue  |
    |                          | signature (left empty)   |
    +--------------------------+--------------------------+

Continuation pages repeat a short header (seller, document name, number and date) and the goods column
headings; every page carries "page n of N". The signature box sits at the same place on the last page of
every document (`SIGNATURE_BOX`), so the signing module can put a visible PAdES signature there.

This module knows nothing of trades: the generators in `pdf.py` fill a `Sheet` with text already
translated and formatted (`Formats`), and `render_sheet` draws it. Same sheet, same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
FONT = "IsmitDejaVuSansCondensed"
FONT_BOLD = "IsmitDejaVuSansCondensed-Bold"

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 20 * mm
WIDTH = 183 * mm
HALF = WIDTH / 2
TOP = PAGE_HEIGHT - 10 * mm
BOTTOM = 12 * mm
FRAME_HEIGHT = TOP - BOTTOM

# Heights, in points measured down from the top of the frame.
TITLE_H = 13 * mm
REF_ROW_H = 9 * mm
BAND1_H = TITLE_H + 3 * REF_ROW_H  # seller | title and references
BAND2_H = 28 * mm  # consignee | buyer
BAND3_ROW_H = 9 * mm  # transport | terms: two rows
FIRST_TABLE_TOP = BAND1_H + BAND2_H + 2 * BAND3_ROW_H + 2 * mm
NEXT_HEADER_H = TITLE_H + REF_ROW_H
NEXT_TABLE_TOP = NEXT_HEADER_H + 2 * mm
BOTTOM_BAND_H = 44 * mm  # totals or declaration | place, date and signature
PLACE_DATE_H = 9 * mm
GAP = 2 * mm

# The empty signature area on the last page, in PDF points (x1, y1, x2, y2), as pyHanko's SigFieldSpec
# box expects it: inside the signature box, under its caption, above the "for and on behalf of" line.
SIGNATURE_BOX: tuple[float, float, float, float] = (
    round(LEFT + HALF + 1 * mm, 2),
    round(BOTTOM + 6 * mm, 2),
    round(LEFT + WIDTH - 1 * mm, 2),
    round(BOTTOM + BOTTOM_BAND_H - PLACE_DATE_H - 4 * mm, 2),
)

LABEL_SIZE = 5.5
TEXT_SIZE = 8.0
CELL_SIZE = 7.5
HEAD_SIZE = 6.0
PAD = 1.2 * mm
INK = Color(0, 0, 0)
CAPTION = Color(0.33, 0.33, 0.33)
RULE = Color(0.55, 0.55, 0.55)


def register_fonts() -> None:
    """DejaVu Sans Condensed, shipped in documents/fonts/: embedded (subset) in every document."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    if FONT not in registered:
        pdfmetrics.registerFont(TTFont(FONT, str(FONTS_DIR / "DejaVuSansCondensed.ttf")))
    if FONT_BOLD not in registered:
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONTS_DIR / "DejaVuSansCondensed-Bold.ttf")))


# -- numbers and dates in the reader's language --------------------------------------------------------


class Formats:
    """English: 1,234.56 and ISO 8601 dates (2026-11-02); French: 1 234,56 (no-break space) and 02/11/2026."""

    def __init__(self, language: str) -> None:
        self.language = language
        french = language.split("-")[0].lower() == "fr"
        self.group = "\u00a0" if french else ","
        self.point = "," if french else "."
        self.french = french

    def number(self, value: Decimal | int, *, min_places: int = 0, max_places: int = 3) -> str:
        value = Decimal(value).quantize(Decimal(1).scaleb(-max_places), rounding=ROUND_HALF_UP)
        sign, text = ("-", format(-value, "f")) if value < 0 else ("", format(value, "f"))
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0")
        fraction = fraction.ljust(min_places, "0")
        groups = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        out = sign + self.group.join(groups)
        return f"{out}{self.point}{fraction}" if fraction else out

    def amount(self, value: Decimal) -> str:
        return self.number(value, min_places=2, max_places=2)

    def price(self, value: Decimal) -> str:
        return self.number(value, min_places=2, max_places=4)

    def measure(self, value: Decimal) -> str:
        """Quantities and masses: as many decimals as they have, up to three."""
        return self.number(value, max_places=3)

    def date(self, value: dt.date | None) -> str:
        if value is None:
            return ""
        return value.strftime("%d/%m/%Y") if self.french else value.isoformat()


# -- what a page shows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A Layout Key box: a small caption and its text (lines wrap; the first may be bold)."""

    label: str
    lines: tuple[str, ...] = ()
    bold_first: bool = False
    size: float = TEXT_SIZE


@dataclass(frozen=True)
class Column:
    label: str
    width_mm: float
    align: str = "left"  # "left" or "right"


@dataclass
class Sheet:
    title: str
    language: str
    author: str
    subject: str
    number: Cell  # shown on every page
    date: Cell
    consignor: Cell  # top left
    refs: Sequence[Sequence[Cell]]  # up to three rows of one or two boxes, right of the consignor
    left2: Cell  # consignee
    right2: Cell  # buyer, declarant...
    transport: Sequence[Sequence[Cell]]  # two rows, left half
    terms: Sequence[Sequence[Cell]]  # two rows, right half
    columns: Sequence[Column]
    rows: Sequence[Sequence[str]]
    totals: Sequence[str]  # one text per column, "" where there is no total
    remarks: Cell  # bottom left of the last page
    place_date: Cell
    signatory: str  # printed under the empty signature area
    footer: str  # "Commercial invoice INV-1": with "page n of N" at the foot of every page
    page_label: str = "Page %(number)s of %(total)s"  # translated, with both placeholders
    signature_label: str = "Signature"
    keywords: str = ""


# -- text ----------------------------------------------------------------------------------------------


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points; words longer than a line are cut."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if pdfmetrics.stringWidth(candidate, font, size) <= width:
                line = candidate
                continue
            if line:
                out.append(line)
            while len(word) > 1 and pdfmetrics.stringWidth(word, font, size) > width:
                cut = len(word) - 1
                while cut > 1 and pdfmetrics.stringWidth(word[:cut], font, size) > width:
                    cut -= 1
                out.append(word[:cut])
                word = word[cut:]
            line = word
        out.append(line)
    return out


def _fit(text: str, font: str, size: float, width: float, smallest: float = 4.5) -> float:
    while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.25
    return size


def _leading(size: float) -> float:
    return size * 1.2


# -- drawing -------------------------------------------------------------------------------------------


class _Pen:
    def __init__(self, canvas: Canvas) -> None:
        self.c = canvas

    @staticmethod
    def y(down: float) -> float:
        return TOP - down

    def box(self, x: float, down: float, w: float, h: float, cell: Cell) -> None:
        c = self.c
        c.setStrokeColor(INK)
        c.setLineWidth(0.5)
        c.rect(x, self.y(down + h), w, h, stroke=1, fill=0)
        inner = w - 2 * PAD
        if cell.label:
            c.setFillColor(CAPTION)
            size = _fit(cell.label, FONT, LABEL_SIZE, inner)
            c.setFont(FONT, size)
            c.drawString(x + PAD, self.y(down + 0.8 * mm + LABEL_SIZE * 0.8), cell.label)
        c.setFillColor(INK)
        if not cell.lines:
            return
        top = down + (0.8 * mm + LABEL_SIZE + 0.6 * mm if cell.label else PAD)
        avail = h - (top - down) - 0.6 * mm
        size = cell.size
        while True:
            laid = self._lay(cell, size, inner)
            if len(laid) * _leading(size) <= avail or size <= 5.5:
                break
            size -= 0.5
        fits = max(1, int(avail // _leading(size)))
        if len(laid) > fits:  # never happens with the data a trade holds; keep the box readable
            laid = laid[:fits]
            font, text = laid[-1]
            laid[-1] = (font, text[: max(0, len(text) - 1)] + "…")
        baseline = top + size * 0.85
        for font, text in laid:
            c.setFont(font, size)
            c.drawString(x + PAD, self.y(baseline), text)
            baseline += _leading(size)

    @staticmethod
    def _lay(cell: Cell, size: float, width: float) -> list[tuple[str, str]]:
        laid: list[tuple[str, str]] = []
        for n, line in enumerate(cell.lines):
            font = FONT_BOLD if cell.bold_first and n == 0 else FONT
            laid.extend((font, part) for part in wrap(line, font, size, width))
        return laid

    def title(self, x: float, down: float, w: float, text: str) -> None:
        c = self.c
        size = 13.0
        lines = [text]
        while size > 9 and pdfmetrics.stringWidth(text, FONT_BOLD, size) > w - 2 * PAD:
            size -= 0.5
        if pdfmetrics.stringWidth(text, FONT_BOLD, size) > w - 2 * PAD:
            size = 11.0
            lines = wrap(text, FONT_BOLD, size, w - 2 * PAD)[:2]
        c.setFillColor(INK)
        c.setFont(FONT_BOLD, size)
        baseline = down + 1.5 * mm + size * 0.85
        for line in lines:
            c.drawString(x + PAD, self.y(baseline), line)
            baseline += _leading(size)

    def row_of(self, x: float, down: float, w: float, h: float, cells: Sequence[Cell]) -> None:
        if not cells:
            return
        each = w / len(cells)
        for n, cell in enumerate(cells):
            self.box(x + n * each, down, each, h, cell)


def _cell_lines(text: str, font: str, size: float, width: float) -> list[str]:
    return wrap(text, font, size, width) if text else []


class _Table:
    def __init__(self, sheet: Sheet) -> None:
        self.columns = list(sheet.columns)
        total = sum(col.width_mm for col in self.columns)
        self.widths = [col.width_mm / total * WIDTH for col in self.columns]
        # Column headings wrap between words; a word too long for its column makes the heading smaller.
        self.head_sizes = [
            min(_fit(word, FONT_BOLD, HEAD_SIZE, w - 2 * PAD) for word in col.label.split() or [""])
            for col, w in zip(self.columns, self.widths, strict=True)
        ]
        self.head = [
            _cell_lines(col.label, FONT_BOLD, size, w - 2 * PAD)
            for col, w, size in zip(self.columns, self.widths, self.head_sizes, strict=True)
        ]
        self.head_h = 2 * PAD + max((len(lines) for lines in self.head), default=1) * _leading(HEAD_SIZE)
        self.rows = [self._lines(row, FONT) for row in sheet.rows]
        self.totals = self._lines(sheet.totals, FONT_BOLD) if any(sheet.totals) else None

    def _lines(self, texts: Sequence[str], font: str) -> list[list[str]]:
        return [
            _cell_lines(text, font, CELL_SIZE, w - 2 * PAD)
            for text, w in zip(texts, self.widths, strict=True)
        ]

    @staticmethod
    def height(row: list[list[str]]) -> float:
        return 2 * 0.9 * mm + max((len(lines) for lines in row), default=1) * _leading(CELL_SIZE)

    def paginate(self) -> list[list[int]]:
        """Row indexes per page: as many as fit; the last page keeps room for totals and signature."""
        reserve = (self.height(self.totals) if self.totals else 0) + GAP + BOTTOM_BAND_H
        first_cap = FRAME_HEIGHT - FIRST_TABLE_TOP - self.head_h
        next_cap = FRAME_HEIGHT - NEXT_TABLE_TOP - self.head_h
        pages: list[list[int]] = [[]]
        used, cap = 0.0, first_cap
        for n, row in enumerate(self.rows):
            h = self.height(row)
            if used + h > cap and pages[-1]:
                pages.append([])
                used, cap = 0.0, next_cap
            pages[-1].append(n)
            used += h
        if used + reserve > cap:
            # Totals and the signature box do not fit under the last rows: carry the last row over, so
            # the totals never stand alone on a page.
            carried = [pages[-1].pop()] if pages[-1] else []
            pages.append(carried)
        return pages

    def draw(self, pen: _Pen, down: float, indexes: list[int], *, totals: bool) -> float:
        c = pen.c
        top = down
        x = LEFT
        c.setFillColor(Color(0.93, 0.93, 0.93))
        c.rect(LEFT, pen.y(down + self.head_h), WIDTH, self.head_h, stroke=0, fill=1)
        c.setFillColor(INK)
        for lines, w, size in zip(self.head, self.widths, self.head_sizes, strict=True):
            self._text(pen, x, down, w, lines, FONT_BOLD, size, "left")
            x += w
        down += self.head_h
        c.setStrokeColor(INK)
        c.setLineWidth(0.5)
        c.line(LEFT, pen.y(down), LEFT + WIDTH, pen.y(down))
        c.setLineWidth(0.25)
        c.setStrokeColor(RULE)
        for n in indexes:
            row = self.rows[n]
            x = LEFT
            for lines, w, col in zip(row, self.widths, self.columns, strict=True):
                self._text(pen, x, down + 0.9 * mm - PAD, w, lines, FONT, CELL_SIZE, col.align)
                x += w
            down += self.height(row)
            c.line(LEFT, pen.y(down), LEFT + WIDTH, pen.y(down))
        if totals and self.totals:
            c.setStrokeColor(INK)
            c.setLineWidth(0.75)
            c.line(LEFT, pen.y(down), LEFT + WIDTH, pen.y(down))
            x = LEFT
            for lines, w, col in zip(self.totals, self.widths, self.columns, strict=True):
                self._text(pen, x, down + 0.9 * mm - PAD, w, lines, FONT_BOLD, CELL_SIZE, col.align)
                x += w
            down += self.height(self.totals)
        # Frame and column rules.
        c.setStrokeColor(INK)
        c.setLineWidth(0.5)
        c.rect(LEFT, pen.y(down), WIDTH, down - top, stroke=1, fill=0)
        c.setLineWidth(0.25)
        x = LEFT
        for w in self.widths[:-1]:
            x += w
            c.line(x, pen.y(top), x, pen.y(down))
        return down

    @staticmethod
    def _text(pen: _Pen, x: float, down: float, w: float, lines, font: str, size: float, align: str) -> None:
        c = pen.c
        c.setFont(font, size)
        baseline = down + PAD + size * 0.85
        for line in lines:
            if align == "right":
                c.drawRightString(x + w - PAD, pen.y(baseline), line)
            else:
                c.drawString(x + PAD, pen.y(baseline), line)
            baseline += _leading(size)


def render_sheet(sheet: Sheet) -> bytes:
    """The PDF of a sheet: deterministic bytes (reportlab's invariant mode), fonts embedded."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=A4,
        invariant=1,
        pageCompression=1,
        lang=sheet.language,
        initialFontName=FONT,
        initialFontSize=TEXT_SIZE,
    )
    canvas.setTitle(sheet.title)
    canvas.setAuthor(sheet.author)
    canvas.setSubject(sheet.subject)
    canvas.setCreator("ISMIT")
    if sheet.keywords:
        canvas.setKeywords(sheet.keywords)
    pen = _Pen(canvas)
    table = _Table(sheet)
    pages = table.paginate()
    for number, indexes in enumerate(pages, start=1):
        last = number == len(pages)
        down = _first_header(pen, sheet) if number == 1 else _next_header(pen, sheet)
        table.draw(pen, down, indexes, totals=last)
        if last:
            _bottom_band(pen, sheet)
        _footer(pen, sheet, number, len(pages))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _first_header(pen: _Pen, sheet: Sheet) -> float:
    right = LEFT + HALF
    pen.box(LEFT, 0, HALF, BAND1_H, sheet.consignor)
    pen.title(right, 0, HALF, sheet.title)
    for n, cells in enumerate(list(sheet.refs)[:3]):
        pen.row_of(right, TITLE_H + n * REF_ROW_H, HALF, REF_ROW_H, cells)
    down = BAND1_H
    pen.box(LEFT, down, HALF, BAND2_H, sheet.left2)
    pen.box(right, down, HALF, BAND2_H, sheet.right2)
    down += BAND2_H
    for n in range(2):
        if n < len(sheet.transport):
            pen.row_of(LEFT, down + n * BAND3_ROW_H, HALF, BAND3_ROW_H, sheet.transport[n])
        if n < len(sheet.terms):
            pen.row_of(right, down + n * BAND3_ROW_H, HALF, BAND3_ROW_H, sheet.terms[n])
    return FIRST_TABLE_TOP


def _next_header(pen: _Pen, sheet: Sheet) -> float:
    right = LEFT + HALF
    consignor = Cell(sheet.consignor.label, sheet.consignor.lines[:2], bold_first=sheet.consignor.bold_first)
    pen.box(LEFT, 0, HALF, NEXT_HEADER_H, consignor)
    pen.title(right, 0, HALF, sheet.title)
    pen.row_of(right, TITLE_H, HALF, REF_ROW_H, [sheet.number, sheet.date])
    return NEXT_TABLE_TOP


def _bottom_band(pen: _Pen, sheet: Sheet) -> None:
    down = FRAME_HEIGHT - BOTTOM_BAND_H
    right = LEFT + HALF
    pen.box(LEFT, down, HALF, BOTTOM_BAND_H, sheet.remarks)
    pen.box(right, down, HALF, PLACE_DATE_H, sheet.place_date)
    pen.box(right, down + PLACE_DATE_H, HALF, BOTTOM_BAND_H - PLACE_DATE_H, Cell(sheet.signature_label))
    c = pen.c
    size = _fit(sheet.signatory, FONT, 6.5, HALF - 2 * PAD)
    c.setFont(FONT, size)
    c.setFillColor(CAPTION)
    c.drawString(right + PAD, BOTTOM + 2 * mm, sheet.signatory)
    c.setFillColor(INK)


def _footer(pen: _Pen, sheet: Sheet, number: int, total: int) -> None:
    c = pen.c
    c.setFont(FONT, 6.5)
    c.setFillColor(CAPTION)
    c.drawString(LEFT, BOTTOM - 5 * mm, sheet.footer)
    c.drawRightString(LEFT + WIDTH, BOTTOM - 5 * mm, sheet.page_label % {"number": number, "total": total})
    c.setFillColor(INK)
