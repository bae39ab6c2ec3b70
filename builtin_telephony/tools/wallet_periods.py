"""The periods of the credit analytics (W6): plain Python, no ORM.

Weeks start on Monday (ISO 8601), quarters are calendar quarters. Every period is a half-open
range of dates ``[start, end)``, so that consecutive periods never share a day.
"""
from datetime import timedelta

from dateutil.relativedelta import relativedelta

PERIODS = ('this_week', 'last_week', 'this_month', 'last_month', 'this_quarter', 'last_quarter', 'custom')


def period_range(period, today, date_from=None, date_to=None):
    """``(start, end)`` dates of ``period`` seen on ``today``; ``end`` is excluded.

    ``custom`` takes ``date_from`` and ``date_to`` (both included, in any order).
    """
    if period == 'this_week' or period == 'last_week':
        start = today - timedelta(days=today.weekday())
        if period == 'last_week':
            start -= timedelta(days=7)
        return start, start + timedelta(days=7)
    if period == 'this_month' or period == 'last_month':
        start = today.replace(day=1)
        if period == 'last_month':
            start -= relativedelta(months=1)
        return start, start + relativedelta(months=1)
    if period == 'this_quarter' or period == 'last_quarter':
        start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        if period == 'last_quarter':
            start -= relativedelta(months=3)
        return start, start + relativedelta(months=3)
    if period == 'custom':
        if not date_from or not date_to:
            raise ValueError("A custom period needs a start and an end date")
        first, last = sorted((date_from, date_to))
        return first, last + timedelta(days=1)
    raise ValueError(f"Unknown period {period!r}; expected one of {', '.join(PERIODS)}")


def bucket_for(start, end):
    """The chart's bar width for a period: a day up to two months, then a week, then a month."""
    days = (end - start).days
    if days <= 62:
        return 'day'
    if days <= 26 * 7:
        return 'week'
    return 'month'
