"""The call history's CSV (requirements H2, docs/contracts.md): plain Python, no ORM.

A text cell that a spreadsheet would read as a formula (leading ``=``, ``+``, ``-`` or ``@``) is
prefixed with ``'``, as Odoo's own export does (``web/controllers/export.py``; ``@`` added). Cells
are quoted only where CSV needs it, so that the header line is exactly ``HEADER_LINE``.
"""
import csv
import io
import queue
import threading

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


# Bytes of CSV sent at a time, and chunks waiting at most: what a download holds in memory.
CHUNK_BYTES = 64 * 1024
QUEUED_CHUNKS = 4


class _Stop(Exception):
    """The download was abandoned (the browser went away): stop the COPY."""


def stream_csv(open_cursor, query):
    """The CSV of ``query`` (SQL text, parameters included) as it is produced: the header line,
    then what PostgreSQL's ``COPY (query) TO STDOUT (FORMAT csv)`` writes, ``CHUNK_BYTES`` at a
    time.

    The COPY runs in a thread on a cursor of its own (``open_cursor()``, a context manager),
    handing chunks over through a queue of ``QUEUED_CHUNKS``: the memory used is that, whatever
    the number of rows. Closing the generator early stops the COPY.
    """
    chunks, stop = queue.Queue(maxsize=QUEUED_CHUNKS), threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                chunks.put(item, timeout=1)
                return
            except queue.Full:
                continue
        raise _Stop()

    class Writer:
        def __init__(self):
            self.parts, self.size = [], 0

        def write(self, data):
            if stop.is_set():
                raise _Stop()
            self.parts.append(data if isinstance(data, bytes) else data.encode())
            self.size += len(data)
            if self.size >= CHUNK_BYTES:
                self.flush()

        def flush(self):
            if self.parts:
                put(b''.join(self.parts))
                self.parts, self.size = [], 0

    def copy():
        try:
            with open_cursor() as cr:
                writer = Writer()
                cr._obj.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", writer)
                writer.flush()
            put(None)
        except _Stop:
            pass
        except Exception as error:  # noqa: BLE001 -- handed to the reader, which raises it
            try:
                put(error)
            except _Stop:
                pass

    def generate():
        yield HEADER_LINE.encode()
        thread = threading.Thread(target=copy, name='telephony-calls-csv', daemon=True)
        thread.start()
        try:
            while (chunk := chunks.get()) is not None:
                if isinstance(chunk, Exception):
                    raise chunk
                yield chunk
        finally:
            stop.set()
            thread.join()

    return generate()
