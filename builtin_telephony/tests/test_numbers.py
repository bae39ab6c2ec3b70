from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import TelephonyCase
from .prism import PrismHttpClient


@tagged('post_install', '-at_install')
class TestBuyNumberWizard(TelephonyCase):
    """The "Buy a number" wizard end to end, on the sandbox provider (N1, N2)."""

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

    def test_number_that_needs_a_local_address(self):
        """German local numbers are sold only with an address in Germany (N1)."""
        wizard = self._wizard(country_id=self.env.ref('base.de').id)
        wizard.number_type_id = self.env.ref('builtin_telephony.number_type_local')
        wizard.action_search()
        self.assertEqual(wizard.address_requirements, 'local')
        wizard.action_next()
        wizard.address_partner_id = self.env['res.partner'].create({
            'name': "Somewhere Else Inc.", 'street': "1 Main St", 'city': "Boston", 'zip': "02108",
            'country_id': self.env.ref('base.us').id})
        with self.assertRaisesRegex(UserError, "needs an address in Germany"):
            wizard.action_continue()
        berlin = self.env['res.partner'].create({
            'name': "Berlin office", 'city': "Berlin", 'zip': "10115", 'country_id': self.env.ref('base.de').id})
        wizard.address_partner_id = berlin
        wizard.action_continue()
        with self.assertRaisesRegex(UserError, "Complete the address of Berlin office \\(street missing\\)"):
            wizard.action_buy()
        berlin.street = "Unter den Linden 1"
        wizard.action_buy()
        self.assertEqual(self.account.number_ids.filtered(lambda n: n.country_id.code == 'DE').phone_number,
                         wizard.phone_number)

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


class RecordingPrismClient(PrismHttpClient):
    """Prism's client that also keeps the form bodies the SDK sent, to check what Twilio would
    have been told (Prism itself checks that the request fits Twilio's spec)."""

    def __init__(self):
        super().__init__()
        self.bodies = []

    def request(self, method, url, params=None, data=None, headers=None, **kwargs):
        self.bodies.append(dict(data or {}))
        return super().request(method, url, params, data, headers, **kwargs)


@tagged('post_install', '-at_install')
class TestNumbersOnTwilio(TelephonyCase):
    """The account's number purchase through the real twilio SDK, against Prism serving Twilio's
    OpenAPI spec: the only thing mocked is Twilio's servers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.write({
            'provider': 'twilio',
            'twilio_account_sid': 'AC' + '1' * 32,
            'twilio_auth_token': 'prism-auth-token',
            'webhook_base_url': 'https://crm.example.com/',
        })

    def setUp(self):
        super().setUp()
        self.http = RecordingPrismClient()
        http = self.http
        patcher = patch.object(type(self.env['telephony.account']), '_get_http_client', lambda self: http)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_search_lists_prices(self):
        found = self.account.with_user(self.telephony_admin).search_available_numbers('US', 'toll_free', limit=5)
        self.assertTrue(found)
        self.assertTrue(all(number['monthly_price'] == 3.0 for number in found))
        self.assertTrue(all(number['phone_number'].startswith('+') for number in found))
        self.assertIn(('GET', '/2010-04-01/Accounts/AC11111111111111111111111111111111/AvailablePhoneNumbers/US/TollFree.json'),
                      self.http.sent)

    def test_purchase_points_the_number_at_this_database(self):
        number = self.env['telephony.number'].browse(
            self.account.with_user(self.telephony_admin).buy_number('+15017122661', 'US', 'local'))
        purchase = self.http.bodies[-1]
        self.assertEqual(purchase['PhoneNumber'], '+15017122661')
        self.assertEqual(purchase['VoiceUrl'], 'https://crm.example.com/telephony/twilio/voice')
        self.assertEqual(purchase['StatusCallback'], 'https://crm.example.com/telephony/twilio/status')
        self.assertEqual(purchase['VoiceMethod'], 'POST')
        self.assertTrue(number.provider_sid.startswith('PN'))
        self.assertEqual(number.account_id, self.account)

    def test_unavailable_number_leaves_nothing_behind(self):
        before = self.env['telephony.number'].search_count([])
        self.http.force_status, self.http.force_example = 400, 'number_unavailable'
        with self.assertRaisesRegex(UserError, "no longer available"):
            self.account.with_user(self.telephony_admin).buy_number('+15017122661', 'US', 'local')
        self.assertEqual(self.env['telephony.number'].search_count([]), before)

    def test_bad_credentials_are_a_clear_error(self):
        self.http.force_status = 401
        with self.assertRaisesRegex(UserError, "rejected the account SID or auth token"):
            self.account.with_user(self.telephony_admin).search_available_numbers('US', 'local')

    def test_failure_after_purchase_gives_the_number_back(self):
        """The number was sold but cannot be recorded (here: it is already ours): it is released
        at Twilio again rather than left costing money unseen."""
        admin_account = self.account.with_user(self.telephony_admin)
        owned = self.env['telephony.number'].browse(admin_account.buy_number('+15017122661', 'US', 'local'))
        self.http.sent.clear()
        with self.assertRaises(Exception):
            admin_account.buy_number(owned.phone_number, 'US', 'local')
        methods = [method for method, path in self.http.sent if '/IncomingPhoneNumbers' in path]
        self.assertEqual(methods, ['POST', 'DELETE'])
        self.assertEqual(self.env['telephony.number'].search_count([('phone_number', '=', owned.phone_number)]), 1)

    def test_release_at_twilio(self):
        number = self.env['telephony.number'].browse(
            self.account.with_user(self.telephony_admin).buy_number('+15017122661', 'US', 'local'))
        sid = number.provider_sid
        number.with_user(self.telephony_admin).action_release()
        self.assertEqual(self.http.sent[-1], ('DELETE', f'/2010-04-01/Accounts/{"AC" + "1" * 32}/IncomingPhoneNumbers/{sid}.json'))
        self.assertFalse(number.exists())

    def test_failed_release_keeps_the_number(self):
        number = self.env['telephony.number'].browse(
            self.account.with_user(self.telephony_admin).buy_number('+15017122661', 'US', 'local'))
        self.http.force_status = 429
        with self.assertRaisesRegex(UserError, "rate-limiting"):
            number.with_user(self.telephony_admin).action_release()
        self.assertTrue(number.exists())
