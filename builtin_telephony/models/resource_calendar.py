from datetime import timedelta

import pytz

from odoo import fields, models


class ResourceCalendar(models.Model):
    """Working hours, as a call flow's ``business_hours`` state reads them (B1)."""
    _inherit = 'resource.calendar'

    def _telephony_is_open(self, when=None):
        """Whether ``when`` (naive UTC, default now) falls in the working hours of this calendar,
        in the calendar's own time zone, outside its public holidays (its leaves without a
        resource, and the company's that apply to every calendar).

        Odoo's own interval maths does the work: each day's attendances are localised in the
        calendar's time zone (so a daylight-saving change moves them in UTC), an attendance ending
        at 24:00 and the next day's starting at 00:00 meet at midnight.
        """
        self.ensure_one()
        start = pytz.utc.localize(when or fields.Datetime.now())
        intervals = self._work_intervals_batch(start, start + timedelta(seconds=1))[False]
        return any(begin < stop for begin, stop, _attendance in intervals)
