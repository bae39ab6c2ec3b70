"""Rating maths of tools/rating.py: plain Python, no database."""
import unittest

from odoo.addons.builtin_telephony.tools import rating
from odoo.addons.builtin_telephony.tools.rating import Rate

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


class TestRating(unittest.TestCase):

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
