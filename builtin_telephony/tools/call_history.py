"""The call history's CSV (requirements H2, docs/contracts.md): plain Python, no ORM.

A text cell that a spreadsheet would read as a formula (leading ``=``, ``+``, ``-`` or ``@``) is
prefixed with ``'``, as Odoo's own export does (``web/controllers/export.py``; ``@`` added). Cells
are quoted only where CSV needs it, so that the header line is exactly ``HEADER_LINE``.
"""
import csv
import io

HEADER = ("Date", "Call type", "Call owner", "From", "To", "Duration (s)",
          "Recording duration (s)", "Credits", "Status", "Contact", "Lead")
HEADER_LINE = ','.join(HEADER) + '\r\n'
FORMULA_STARTS = ('=', '+', '-', '@')


def csv_cell(value):
    """A value as Odoo's export writes it: '' for nothing, formula-looking text escaped."""
    if value is None or value is False:
        return ''
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunk(rows):
    """``rows`` (sequences of cells) as CSV lines, formula-looking cells escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()
