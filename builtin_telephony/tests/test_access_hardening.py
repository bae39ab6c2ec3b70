"""Who may read and change what (issue 9: items 11 and 15)."""
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import ADMIN_GROUPS, TelephonyCase, demo_token


@tagged('post_install', '-at_install')
class TestWhatSalespeopleSee(TelephonyCase):
    """A telephony user (a salesperson) sees what calling needs, not the account's money or set-up."""

    def test_salespeople_do_not_read_the_wallet_urls_or_saved_cards(self):
        token = demo_token(self.env, self.company.partner_id)
        self.account.write({'auto_recharge_token_id': token.id, 'webhook_base_url': 'https://crm.example.com'})
        account = self.account.with_user(self.telephony_salesman)
        for field in ('balance', 'balance_company_currency', 'settled_balance', 'webhook_base_url',
                      'voice_webhook_url', 'status_webhook_url', 'client_webhook_url', 'auto_recharge',
                      'auto_recharge_min', 'auto_recharge_amount', 'auto_recharge_token_id',
                      'auto_recharge_token_choice', 'overdraft_limit', 'wallet_transaction_ids'):
            with self.subTest(field=field), self.assertRaises(AccessError):
                account.read([field])
        # The company's saved cards are not listed to them through the field's selection either.
        fields = account.fields_get(attributes=['selection'])
        self.assertNotIn('auto_recharge_token_choice', fields)
        self.assertEqual(self.env['telephony.account'].with_user(self.telephony_salesman)
                         ._selection_company_tokens(), [])
        admin_choices = self.env['telephony.account'].with_user(self.telephony_admin)._selection_company_tokens()
        self.assertEqual([choice for choice, _label in admin_choices], [str(token.id)])
        # ... what they need still works: their calls' webhooks use the account's URL.
        self.assertEqual(account._webhook_url('/x'), 'https://crm.example.com/x')

    def test_salespeople_do_not_query_the_block_list(self):
        self.env['telephony.blocked.number'].create({'phone_number': '+14155550166'})
        with self.assertRaises(AccessError):
            self.env['telephony.blocked.number'].with_user(self.telephony_salesman).search_read([], ['phone_number'])
        # The check of a call still works for them (no access rules: one query).
        self.assertTrue(self.env['telephony.blocked.number'].with_user(self.telephony_salesman)
                        .is_blocked('+14155550166'))


@tagged('post_install', '-at_install')
class TestRatesAndPricesAreSystemSettings(TelephonyCase):
    """Call rates and number prices are shared by every company: Settings administrators only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.system_admin = new_test_user(cls.env, 'system_admin', groups='base.group_system,' + ADMIN_GROUPS)

    def test_a_telephony_administrator_reads_but_does_not_change_them(self):
        rate = self.env['telephony.rate'].search([], limit=1)
        price = self.env['telephony.number.price'].search([], limit=1)
        for record in (rate, price):
            as_admin = record.with_user(self.telephony_admin)
            as_admin.read([])
            with self.subTest(model=record._name), self.assertRaises(AccessError):
                as_admin.write({'name' if record._name == 'telephony.rate' else 'monthly_price': 1})
            with self.assertRaises(AccessError):
                as_admin.unlink()
        with self.assertRaises(AccessError):
            self.env['telephony.rate'].with_user(self.telephony_admin).create(
                {'name': "Free", 'direction': 'outbound', 'prefix': '44', 'price_per_minute': 0})
        rate.with_user(self.system_admin).price_per_minute = 0.5
        price.with_user(self.system_admin).monthly_price = 4

    def test_prices_and_rates_must_be_sane(self):
        Rate = self.env['telephony.rate'].with_user(self.system_admin)
        Price = self.env['telephony.number.price'].with_user(self.system_admin)
        price = Price.search([], limit=1)
        for value in (-1, 1_000_000):
            with self.subTest(price=value), mute_logger('odoo.sql_db'), self.assertRaises(IntegrityError), \
                    self.env.cr.savepoint():
                price.monthly_price = value
                price.flush_recordset()
            with self.subTest(rate=value), mute_logger('odoo.sql_db'), self.assertRaises(IntegrityError), \
                    self.env.cr.savepoint():
                Rate.create({'name': "X", 'direction': 'outbound', 'prefix': '999', 'price_per_minute': value})
        for prefix in ('+44', '44 7', 'abc', '123456789'):
            with self.subTest(prefix=prefix), self.assertRaises(ValidationError):
                Rate.create({'name': "X", 'direction': 'outbound', 'prefix': prefix, 'price_per_minute': 0.1})
