from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import TelephonyCase


@tagged('post_install', '-at_install')
class TestBuyNumberWizard(TelephonyCase):
    """The "Buy a number" wizard end to end, on the sandbox provider (SPEC N1, N2)."""

    def _wizard(self, **values):
        return self.env['telephony.number.buy'].with_user(self.telephony_admin).create(
            dict({'country_id': self.env.ref('base.us').id}, **values))

    def test_offers_only_the_types_of_the_country(self):
        wizard = self._wizard()
        self.assertEqual(set(wizard.offered_type_ids.mapped('code')), {'local', 'toll_free'},
                         "the US has no mobile-only numbers")
        self.assertEqual(wizard.number_type_id.code, 'local')
        wizard.country_id = self.env.ref('base.uk')
        self.assertIn('mobile', wizard.offered_type_ids.mapped('code'))

    def test_search_summary_confirm_buy(self):
        wizard = self._wizard(number_type_id=self.env.ref('builtin_telephony.number_type_toll_free').id)
        wizard.action_search()
        self.assertTrue(wizard.line_ids)
        self.assertEqual(wizard.line_id, wizard.line_ids[0], "the first number is preselected")
        self.assertTrue(all(line.phone_number.startswith('+1') for line in wizard.line_ids))
        self.assertEqual(wizard.line_id.monthly_price, 3.0, "the US toll-free price of the rate table")
        self.assertIn('credits/month', wizard.line_id.display_name)

        chosen = wizard.line_ids[-1]
        wizard.line_id = chosen
        wizard.action_next()
        self.assertEqual(wizard.step, 'summary')
        self.assertEqual(wizard.phone_number, chosen.phone_number)
        self.assertEqual(wizard.monthly_price, 3.0)
        wizard.action_continue()
        self.assertEqual(wizard.step, 'confirm')
        wizard.action_back()
        self.assertEqual(wizard.step, 'summary')
        wizard.action_continue()
        wizard.action_buy()

        number = self.account.number_ids.filtered(lambda n: n.phone_number == chosen.phone_number)
        self.assertEqual(len(number), 1)
        self.assertEqual(number.number_type, 'toll_free')
        self.assertEqual(number.country_id, self.env.ref('base.us'))
        self.assertEqual(number.monthly_price, 3.0)
        self.assertTrue(number.provider_sid.startswith('PN'))

    def test_next_needs_a_number(self):
        wizard = self._wizard()
        with self.assertRaises(UserError):
            wizard.action_next()

    def test_region_and_contains_narrow_the_search(self):
        wizard = self._wizard(contains='55')
        wizard.action_search()
        self.assertTrue(all('55' in line.phone_number for line in wizard.line_ids))

    def test_prices_in_company_currency(self):
        eur = self.env.ref('base.EUR')
        eur.active = True
        self.env['res.currency.rate'].create({'currency_id': eur.id, 'rate': 2.0, 'name': '2000-01-01'})
        self.env.ref('base.USD').rate_ids.unlink()
        self.company.currency_id = eur
        wizard = self._wizard()
        wizard.action_search()
        self.assertAlmostEqual(wizard.monthly_price_company, wizard.monthly_price * 2.0)


@tagged('post_install', '-at_install')
class TestNumbers(TelephonyCase):

    def test_release(self):
        number = self._buy()
        number.with_user(self.telephony_admin).action_release()
        self.assertFalse(number.exists())

    def test_number_in_one_flow_at_a_time(self):
        number = self._buy()
        first, second = self.env['telephony.flow'].create([{'name': "Day"}, {'name': "Night"}])
        number.flow_id = first
        self.assertEqual(first.number_ids, number)
        second.number_ids = [(4, number.id)]
        self.assertEqual(number.flow_id, second)
        self.assertFalse(first.number_ids)

    def test_display_name_is_international_format(self):
        number = self._buy('+14155550142')
        self.assertEqual(number.display_name, '+1 415-555-0142')

    def test_buying_twice_leaves_one_record(self):
        self._buy('+14155550142')
        with self.assertRaises(Exception):
            self._buy('+14155550142')
        self.assertEqual(self.env['telephony.number'].search_count([('phone_number', '=', '+14155550142')]), 1)
