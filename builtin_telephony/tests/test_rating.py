"""Rating maths of tools/rating.py: plain Python, no database."""
from datetime import date

from odoo.tests import BaseCase

from odoo.addons.builtin_telephony.tools import rating
from odoo.addons.builtin_telephony.tools.rating import Rate
from odoo.addons.builtin_telephony.tools.wallet_periods import bucket_for, period_range

RATES = [
    Rate('', 'outbound', '', 0.20),
    Rate('1', 'outbound', '', 0.02),
    Rate('44', 'outbound', '', 0.03),
    Rate('447', 'outbound', '', 0.06),
    Rate('', 'inbound', 'local', 0.015),
    Rate('', 'inbound', 'toll_free', 0.05),
    Rate('1', 'inbound', 'local', 0.01),
    Rate('1', 'inbound', 'toll_free', 0.025),
]


class TestRating(BaseCase):

    def test_every_started_minute_is_paid(self):
        self.assertEqual(rating.billable_minutes(0), 0)
        self.assertEqual(rating.billable_minutes(1), 1)
        self.assertEqual(rating.billable_minutes(60), 1)
        self.assertEqual(rating.billable_minutes(61), 2)
        self.assertEqual(rating.billable_minutes(3599), 60)
        self.assertEqual(rating.billable_minutes(None), 0)

    def test_credits_are_exact_to_four_decimals(self):
        # 0.1 + 0.2 style binary errors must not leak into the ledger.
        self.assertEqual(rating.call_credits(0.0085, 181), 0.034)
        self.assertEqual(rating.call_credits(0.07, 3 * 60), 0.21)
        self.assertEqual(rating.call_credits(0.00005, 60), 0.0001)  # half up
        self.assertEqual(rating.call_credits(0.02, 0), 0.0)

    def test_longest_prefix_wins(self):
        self.assertEqual(rating.find_rate(RATES, 'outbound', '+447700900123', 'local').price_per_minute, 0.06)
        self.assertEqual(rating.find_rate(RATES, 'outbound', '+442071838750', 'local').price_per_minute, 0.03)
        self.assertEqual(rating.find_rate(RATES, 'outbound', '+1 (415) 555-0100', 'local').price_per_minute, 0.02)
        self.assertEqual(rating.find_rate(RATES, 'outbound', '+81312345678', 'local').price_per_minute, 0.20)

    def test_direction_and_number_type_select_the_rate(self):
        self.assertEqual(rating.find_rate(RATES, 'inbound', '+14155550100', 'local').price_per_minute, 0.01)
        self.assertEqual(rating.find_rate(RATES, 'inbound', '+18005550100', 'toll_free').price_per_minute, 0.025)
        self.assertEqual(rating.find_rate(RATES, 'inbound', '+34912345678', 'toll_free').price_per_minute, 0.05)
        # No inbound rate for mobile numbers in this table: nothing applies.
        self.assertIsNone(rating.find_rate(RATES, 'inbound', '+34612345678', 'mobile'))

    def test_a_typed_rate_beats_an_untyped_one_of_the_same_prefix(self):
        rates = [Rate('44', 'inbound', '', 0.5), Rate('44', 'inbound', 'mobile', 0.1)]
        self.assertEqual(rating.find_rate(rates, 'inbound', '+447700900123', 'mobile').price_per_minute, 0.1)
        self.assertEqual(rating.find_rate(rates, 'inbound', '+442071838750', 'local').price_per_minute, 0.5)

    def test_affordable_seconds_are_whole_minutes(self):
        self.assertEqual(rating.affordable_seconds(1.0, 0.3), 180)
        self.assertEqual(rating.affordable_seconds(0.29, 0.3), 0)
        self.assertEqual(rating.affordable_seconds(0.3, 0.3), 60)
        self.assertEqual(rating.affordable_seconds(-5, 0.3), 0)
        self.assertEqual(rating.affordable_seconds(10_000, 0.01), rating.MAX_CALL_SECONDS)
        self.assertEqual(rating.affordable_seconds(0, 0), rating.MAX_CALL_SECONDS)


class TestAnalyticsPeriods(BaseCase):
    """Period presets of the credit analytics at week, month, quarter and year boundaries."""

    def check(self, period, today, expected_start, expected_end, **kwargs):
        self.assertEqual(period_range(period, date.fromisoformat(today), **kwargs),
                         (date.fromisoformat(expected_start), date.fromisoformat(expected_end)))

    def test_weeks_start_on_monday(self):
        self.check('this_week', '2025-01-05', '2024-12-30', '2025-01-06')  # Sunday, across the year
        self.check('this_week', '2025-01-06', '2025-01-06', '2025-01-13')  # Monday
        self.check('last_week', '2025-01-06', '2024-12-30', '2025-01-06')
        self.check('last_week', '2025-01-01', '2024-12-23', '2024-12-30')

    def test_months(self):
        self.check('this_month', '2025-01-31', '2025-01-01', '2025-02-01')
        self.check('this_month', '2024-02-29', '2024-02-01', '2024-03-01')
        self.check('last_month', '2025-01-01', '2024-12-01', '2025-01-01')
        self.check('last_month', '2025-03-31', '2025-02-01', '2025-03-01')

    def test_quarters(self):
        self.check('this_quarter', '2025-03-31', '2025-01-01', '2025-04-01')
        self.check('this_quarter', '2025-04-01', '2025-04-01', '2025-07-01')
        self.check('this_quarter', '2025-12-31', '2025-10-01', '2026-01-01')
        self.check('last_quarter', '2025-01-01', '2024-10-01', '2025-01-01')
        self.check('last_quarter', '2025-07-15', '2025-04-01', '2025-07-01')

    def test_custom_range_includes_both_days_in_any_order(self):
        from datetime import date
        self.check('custom', '2025-06-01', '2024-12-31', '2025-01-02',
                   date_from=date(2025, 1, 1), date_to=date(2024, 12, 31))
        with self.assertRaises(ValueError):
            period_range('custom', date(2025, 1, 1), date_from=date(2025, 1, 1))
        with self.assertRaises(ValueError):
            period_range('fortnight', date(2025, 1, 1))

    def test_bars_widen_with_the_period(self):
        from datetime import date
        self.assertEqual(bucket_for(date(2025, 1, 1), date(2025, 4, 1)), 'week')
        self.assertEqual(bucket_for(date(2025, 1, 1), date(2025, 2, 1)), 'day')
        self.assertEqual(bucket_for(date(2024, 1, 1), date(2025, 1, 1)), 'month')
