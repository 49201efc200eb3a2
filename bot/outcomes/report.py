"""The discharge report: one PDF for the clinic's records with the progress chart, the
summary in figures, the questionnaires' scores and the alerts.

Drawn with fpdf2 in DejaVu Sans (shipped with matplotlib), so any patient's name prints.
CPU-bound: callers run :func:`render_pdf` off the event loop.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.content import label

if TYPE_CHECKING:
    from fpdf import FPDF

# fpdf2 and matplotlib (for its fonts) are imported when a report is drawn, not when the bot
# starts: together they were a quarter of its start-up.


@dataclass(frozen=True)
class ReportData:
    title: str  # "Discharge report: Sam Taylor"
    facts: list[str]  # one line each: ids, dates, check-ins
    chart_png: bytes | None
    summary: list[str]  # the change in figures
    proms: list[tuple[str, str, str]]  # (questionnaire, date, result)
    alerts: list[tuple[str, str, str, str]]  # (date, level, reason, acknowledged)
    footer: str


def render_pdf(data: ReportData) -> bytes:
    import matplotlib
    from fpdf import FPDF

    font_dir = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    pdf = FPDF(format="A4")
    pdf.set_title(data.title)
    pdf.add_font("DejaVu", "", os.path.join(font_dir, "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", os.path.join(font_dir, "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, data.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    for line in data.facts:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    if data.chart_png:
        pdf.ln(2)
        pdf.image(io.BytesIO(data.chart_png), w=pdf.epw)
    _heading(pdf, label("report_summary"))
    for line in data.summary:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, label("report_proms"))
    _table(
        pdf,
        [label("report_col_questionnaire"), label("report_col_date"), label("report_col_result")],
        data.proms,
        (45, 25, 30),
    )
    _heading(pdf, label("report_alerts"))
    _table(
        pdf,
        [
            label("report_col_date"),
            label("report_col_level"),
            label("report_col_reason"),
            label("report_col_acknowledged"),
        ],
        data.alerts,
        (18, 12, 45, 25),
    )
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(0, 5, data.footer, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _heading(pdf: FPDF, title: str) -> None:
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)


def _table(pdf: FPDF, header: list[str], rows: list[tuple], widths: tuple[int, ...]) -> None:
    from fpdf.fonts import FontFace

    if not rows:
        pdf.cell(0, 6, label("report_none"), new_x="LMARGIN", new_y="NEXT")
        return
    with pdf.table(col_widths=widths, headings_style=FontFace(emphasis="BOLD")) as table:
        table.row(header)
        for row in rows:
            table.row([str(cell) for cell in row])
