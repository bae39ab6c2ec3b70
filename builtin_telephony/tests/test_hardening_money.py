"""Money and provider side effects (issue 9: items 2, 3, 12, 14)."""
import math
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..tools.provider_errors import NO_ANSWER, TelephonyProviderError
from .common import TelephonyCase
from .common import demo_token


@tagged('post_install', '-at_install')
class TestAutoRechargeSafety(TelephonyCase):
    """Item 3: only the company's own saved payment method, sane amounts; item 14: one failing
    account does not stop the others."""

    def test_only_the_companys_payment_method_pays(self):
        customer = self.env['res.partner'].create({'name': "A customer"})
        customer_token = demo_token(self.env, customer)
        account = self.account.with_user(self.telephony_admin)
        with self.assertRaises(ValidationError):
            account.write({'auto_recharge': True, 'auto_recharge_token_id': customer_token.id})
        # Set by other means (an older version, SQL): still not charged.
        self.env.cr.execute("UPDATE telephony_account SET auto_recharge = TRUE, auto_recharge_min = 10, "
                            "auto_recharge_amount = 50, auto_recharge_token_id = %s WHERE id = %s",
                            [customer_token.id, self.account.id])
        self.account.invalidate_recordset()
        self.account._charge('call', self.account.balance - 5, 'CA-dip')
        self.env['telephony.account']._cron_auto_recharge()
        self.assertFalse(self.env['payment.transaction'].search([('token_id', '=', customer_token.id)]))

    def test_recharge_amounts_are_bounded(self):
        token = demo_token(self.env, self.company.partner_id)
        account = self.account.with_user(self.telephony_admin)
        for values in ({'auto_recharge_min': -5}, {'auto_recharge_amount': 0}, {'auto_recharge_amount': 10**9},
                       {'auto_recharge_min': math.nan}, {'auto_recharge_amount': math.inf}):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                account.write(dict({'auto_recharge': True, 'auto_recharge_token_id': token.id}, **values))
        account.write({'auto_recharge': True, 'auto_recharge_token_id': token.id,
                       'auto_recharge_min': 10, 'auto_recharge_amount': 50})

    def test_one_failing_account_does_not_stop_the_cron(self):
        other_company = self.env['res.company'].create({'name': "Other Co"})
        accounts = self.account | self.env['telephony.account']._get_for_company(other_company)
        for account in accounts:
            account.write({'auto_recharge': True, 'auto_recharge_min': 10, 'auto_recharge_amount': 50,
                           'auto_recharge_token_id': demo_token(self.env, account.company_id.partner_id).id})
            account.add_credits(5, 'below-the-minimum') if account != self.account else \
                account._charge('call', account.balance - 5, 'CA-dip')
        recharged = []
        original = type(self.account)._auto_recharge

        def auto_recharge(account, *args, **kwargs):
            if account == accounts[0]:
                raise RuntimeError("the payment provider is down")
            recharged.append(account)
            return original(account, *args, **kwargs)
        with patch.object(type(self.account), '_auto_recharge', auto_recharge), \
                self.assertLogs('odoo.addons.builtin_telephony', 'ERROR'):
            self.env['telephony.account']._cron_auto_recharge()
        self.assertEqual(recharged, [accounts[1]])


@tagged('post_install', '-at_install')
class TestNoProviderSideEffectBeforeAccessChecks(TelephonyCase):
    """Item 2: a user who may not release a number does not release it at the provider."""

    def test_a_purchase_whose_answer_never_came_is_reconciled(self):
        gateway = type(self.account._get_gateway())
        bought = {}

        def buy_number(gateway_self, phone_number, **kwargs):
            bought[phone_number] = {'sid': 'PN' + '7' * 32, 'phone_number': phone_number,
                                    'friendly_name': 'x', 'voice_url': None, 'status_callback': None}
            raise TelephonyProviderError(NO_ANSWER)  # Twilio bought it, the answer got lost
        with patch.object(gateway, 'buy_number', buy_number), \
                patch.object(gateway, 'find_number', lambda gateway_self, number: bought.get(number)):
            number_id = self.account.with_user(self.telephony_admin).buy_number('+14155550177', 'US', 'local')
        number = self.env['telephony.number'].browse(number_id)
        self.assertEqual((number.phone_number, number.provider_sid), ('+14155550177', 'PN' + '7' * 32))

    def test_a_salesman_cannot_release_a_number_at_the_provider(self):
        number = self._buy()
        released = []
        gateway = type(self.account._get_gateway())
        with patch.object(gateway, 'release_number', lambda gateway_self, sid: released.append(sid)):
            with self.assertRaises(AccessError):
                number.with_user(self.telephony_salesman).action_release()
        self.assertEqual(released, [], "the number must stay the company's at the provider")


@tagged('post_install', '-at_install')
class TestReadOnlyFieldsOverRpc(TelephonyCase):
    """Item 12: what the page shows read-only is not writable by a telephony administrator."""

    def test_the_settled_balance_and_the_company_are_not_writable(self):
        account = self.account.with_user(self.telephony_admin)
        balance = self.account.balance
        for values in ({'settled_balance': 10**6}, {'credits_exhausted_notified': True},
                       {'company_id': self.env['res.company'].create({'name': "Elsewhere"}).id}):
            with self.subTest(values=list(values)), self.assertRaises(UserError):
                account.write(values)
        self.assertEqual(self.account.balance, balance)

    def test_a_numbers_provider_facts_are_not_writable(self):
        number = self._buy().with_user(self.telephony_admin)
        for values in ({'monthly_price': -50}, {'provider_sid': 'PN' + '0' * 32}, {'phone_number': '+14155550000'},
                       {'paid_until': '2099-01-01'}):
            with self.subTest(values=list(values)), self.assertRaises(UserError):
                number.write(values)

    def test_a_number_cannot_run_another_companys_flow(self):
        number = self._buy()
        other_company = self.env['res.company'].create({'name': "Other Co"})
        foreign_flow = self.env['telephony.flow'].create({'name': "Theirs", 'company_id': other_company.id})
        self.telephony_admin.company_ids |= other_company
        with self.assertRaises(UserError):
            number.with_user(self.telephony_admin).write({'flow_id': foreign_flow.id})


@tagged('post_install', '-at_install')
class TestSpokenMessagesAreValidated(TelephonyCase):
    """Item 14: what a flow says is checked at publication: text, language, voice."""

    def _problems(self, message):
        flow = self.env['telephony.flow'].create({'name': "Says"})
        return flow.validate_definition({'start': 'a', 'states': {'a': {
            'type': 'announce', 'message': message, 'next': {}}}})

    def test_text_language_and_voice(self):
        self.assertEqual(self._problems({'kind': 'text', 'text': "Hello", 'language': 'en-US',
                                         'voice': 'Polly.Joanna'}), [])
        for message in ({'kind': 'text', 'text': ''}, {'kind': 'text', 'text': 'x' * 5000},
                        {'kind': 'text', 'text': 42}, {'kind': 'text', 'text': "Hi", 'language': 'klingon'},
                        {'kind': 'text', 'text': "Hi", 'voice': 'Polly.Joanna"><Dial>+1900'},
                        {'kind': 'text', 'text': "Hi", 'language': ['en-US']}):
            with self.subTest(message=message):
                self.assertTrue(self._problems(message))

    def test_deeply_nested_json_is_a_problem_not_a_crash(self):
        flow = self.env['telephony.flow'].create({'name': "Deep"})
        self.assertTrue(flow.validate_definition('[' * 100000 + ']' * 100000))
        self.assertTrue(flow.validate_definition('{"start": ' + '{"a": ' * 50000 + '1' + '}' * 50000 + '}'))
