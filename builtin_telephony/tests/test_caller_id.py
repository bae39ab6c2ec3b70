"""Custom outgoing caller IDs (U1): verified numbers only, on the sandbox, through the
Twilio callback route and against Twilio's REST contract (Prism)."""
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from twilio.request_validator import RequestValidator

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import USER_GROUPS, TelephonyCase
from .prism import PrismHttpClient

CALLBACK = '/telephony/twilio/caller_id'


class CallerIdCase(TelephonyCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.country_id = cls.env.ref('base.fr')
        cls.seller = cls.env['telephony.user'].create({
            'user_id': cls.telephony_salesman.id, 'allow_custom_caller_id': True})
        cls.CallerId = cls.env['telephony.caller.id'].with_user(cls.telephony_salesman)

    def _add_and_call(self, typed='06 12 34 56 78'):
        caller_id = self.CallerId.create({'phone_number': typed, 'friendly_name': "Support line"})
        caller_id.action_start_verification()
        return caller_id


@tagged('post_install', '-at_install')
class TestVerificationCallsAreOutgoingCalls(CallerIdCase):
    """A verification call is an outgoing call we pay for: the same checks, and a rate limit
    (issue 9, item 10: a toll-fraud path otherwise)."""

    def _verify(self, typed):
        caller_id = self.CallerId.create({'phone_number': typed})
        caller_id.action_start_verification()
        return caller_id

    def test_china_and_blocked_numbers_are_not_called(self):
        self.env['telephony.blocked.number'].create({'phone_number': '+33612345679'})
        for typed, message in [('+86 138 0013 8000', r'China \(\+86\)'), ('06 12 34 56 79', 'block list')]:
            with self.subTest(typed=typed), self.assertRaisesRegex(UserError, message):
                self._verify(typed)

    def test_the_countries_and_spending_limits_of_outgoing_calls_apply(self):
        # Outgoing calls reach the company's own country (France) unless more are allowed.
        abroad = self.CallerId.create({'phone_number': '+1 415 555 0142'})
        with self.assertRaisesRegex(UserError, 'Calls to United States are not allowed'):
            abroad.action_start_verification()
        self.account.sudo().allowed_country_ids = self.env.ref('base.fr') | self.env.ref('base.us')
        abroad.action_start_verification()
        self.assertEqual(abroad.state, 'pending')
        # Today's calls spent the user's daily limit but for less than the minute it costs.
        price = self.env['telephony.rate']._price_per_minute('outbound', '+33612345678', 'mobile')
        self.seller.sudo().daily_spend_limit = 1
        self.env['telephony.call'].create({
            'provider_sid': 'CA-spent-today', 'direction': 'outbound', 'status': 'completed',
            'from_number': '+33612345600', 'to_number': '+33612345601', 'company_id': self.company.id,
            'user_id': self.telephony_salesman.id, 'duration': 600, 'credits': 1 - price / 2,
            'end_date': fields.Datetime.now()})
        with self.assertRaisesRegex(UserError, 'your daily limit'):
            self._verify('06 12 34 56 78')

    def test_no_verification_call_without_credits(self):
        self.account._charge('call', self.account.balance, 'CA-spend-all')
        with self.assertRaisesRegex(UserError, 'credits'):
            self._verify('06 12 34 56 78')

    def test_verification_calls_are_charged_once_each(self):
        Transaction = self.env['telephony.wallet.transaction']
        price = self.env['telephony.rate']._price_per_minute('outbound', '+33612345678', 'mobile')
        self.assertGreater(price, 0)
        balance = self.account.balance
        caller_id = self._verify('06 12 34 56 78')
        line = Transaction.search([('account_id', '=', self.account.id),
                                   ('reference', '=', caller_id.validation_call_sid)])
        self.assertEqual((line.kind, line.credits), ('call', -price), "one minute at the mobile rate")
        self.assertEqual(line.user_id, self.telephony_salesman)
        self.assertIn('+33612345678', line.description)
        self.assertAlmostEqual(self.account.balance, balance - price, places=4)
        # The same call charged again (a retried request) changes nothing...
        caller_id.sudo()._charge_verification_call(self.account.sudo(), caller_id.validation_call_sid)
        self.assertAlmostEqual(self.account.balance, balance - price, places=4)
        # ...another call is another charge.
        first_sid = caller_id.validation_call_sid
        with freeze_time(fields.Datetime.now() + timedelta(minutes=2)):
            caller_id.action_start_verification()
        self.assertNotEqual(caller_id.validation_call_sid, first_sid)
        self.assertEqual(Transaction.search_count([('account_id', '=', self.account.id),
                                                   ('reference', 'in', [first_sid, caller_id.validation_call_sid])]),
                         2)
        self.assertAlmostEqual(self.account.balance, balance - 2 * price, places=4)

    def test_verification_calls_are_rate_limited(self):
        caller_id = self._verify('06 12 34 56 78')
        with self.assertRaisesRegex(UserError, 'wait a minute'):
            caller_id.action_start_verification()
        # Minutes later, other numbers: a few a day, then no more.
        with freeze_time(fields.Datetime.now() + timedelta(minutes=2)):
            for index in range(4):
                self._verify(f'06 12 34 56 {80 + index}')
            with self.assertRaisesRegex(UserError, 'last 24 hours'):
                self._verify('06 12 34 56 90')
        with freeze_time(fields.Datetime.now() + timedelta(days=1, minutes=3)):
            self._verify('06 12 34 56 91')


@tagged('post_install', '-at_install')
class TestCallerIdOnSandbox(CallerIdCase):

    def test_verification_steps(self):
        caller_id = self.CallerId.create({'phone_number': '06 12 34 56 78', 'friendly_name': "Support line"})
        self.assertEqual(caller_id.telephony_user_id, self.seller)
        self.assertEqual((caller_id.phone_number, caller_id.state), ('+33612345678', 'draft'))
        self.assertNotIn('+33612345678', self.seller._get_outgoing_caller_ids())

        caller_id.action_start_verification()
        self.assertEqual(caller_id.state, 'pending')
        self.assertRegex(caller_id.validation_code, r'^\d{6}$')
        self.assertRegex(caller_id.validation_call_sid, r'^CA[0-9a-f]{32}$')
        with self.assertRaisesRegex(UserError, 'cannot call from'):
            self.seller._check_outgoing_caller_id('+33612345678')

        caller_id.entered_code = caller_id.validation_code
        caller_id.action_sandbox_answer_call()
        self.assertEqual(caller_id.state, 'verified')
        self.assertRegex(caller_id.provider_sid, r'^PN[0-9a-f]{32}$')
        self.assertEqual(self.seller._get_outgoing_caller_ids(), ['+33612345678'])
        self.assertEqual(self.seller._check_outgoing_caller_id('06 12 34 56 78'), '+33612345678')

    def test_a_wrong_code_fails_the_verification_until_called_again(self):
        caller_id = self._add_and_call()
        caller_id.entered_code = '000000' if caller_id.validation_code != '000000' else '111111'
        with self.assertRaisesRegex(UserError, 'does not match'):
            caller_id.action_sandbox_answer_call()
        self.assertEqual(caller_id.state, 'failed')
        self.assertFalse(self.seller._get_outgoing_caller_ids())
        with freeze_time(fields.Datetime.now() + timedelta(minutes=2)):  # verification calls are rate-limited
            caller_id.action_start_verification()
        self.assertEqual(caller_id.state, 'pending')
        caller_id.entered_code = caller_id.validation_code
        caller_id.action_sandbox_answer_call()
        self.assertEqual(caller_id.state, 'verified')

    def test_verified_numbers_only_when_custom_caller_ids_are_allowed(self):
        caller_id = self._add_and_call()
        caller_id.entered_code = caller_id.validation_code
        caller_id.action_sandbox_answer_call()
        self.seller.allow_custom_caller_id = False
        self.assertEqual(self.seller._get_outgoing_caller_ids(), [])
        with self.assertRaisesRegex(UserError, 'may not use custom outgoing caller IDs'):
            self.CallerId.create({'phone_number': '+33612345679'})

    def test_nobody_marks_a_number_verified_by_hand(self):
        caller_id = self.CallerId.create({'phone_number': '+33612345678'})
        with self.assertRaises(AccessError):
            caller_id.write({'state': 'verified'})
        with self.assertRaises(AccessError):
            self.CallerId.create({'phone_number': '+33612345679', 'state': 'verified'})
        with self.assertRaises(AccessError):
            caller_id.with_user(self.telephony_admin).write({'state': 'verified'})
        self.assertEqual(caller_id.state, 'draft')

    def test_users_see_only_their_own_caller_ids(self):
        mine = self.CallerId.create({'phone_number': '+33612345678'})
        other_user = new_test_user(self.env, 'colleague', groups=USER_GROUPS)
        self.env['telephony.user'].create({'user_id': other_user.id, 'allow_custom_caller_id': True})
        theirs = self.env['telephony.caller.id'].with_user(other_user).create({'phone_number': '+33612345679'})
        self.assertEqual(self.CallerId.search([]), mine)
        with self.assertRaises(AccessError):
            theirs.with_user(self.telephony_salesman).action_start_verification()
        self.assertEqual(
            self.env['telephony.caller.id'].with_user(self.telephony_admin).search([]), mine + theirs)

    def test_preferences_open_my_caller_ids(self):
        action = self.telephony_salesman.with_user(self.telephony_salesman).action_open_my_caller_ids()
        self.assertEqual(action['res_model'], 'telephony.caller.id')
        self.assertEqual(action['context'], {'default_telephony_user_id': self.seller.id})
        self.seller.allow_custom_caller_id = False
        with self.assertRaisesRegex(UserError, 'Ask a telephony administrator'):
            self.telephony_salesman.with_user(self.telephony_salesman).action_open_my_caller_ids()


@tagged('post_install', '-at_install')
class TestCallerIdCallback(HttpCase, CallerIdCase):
    """Twilio's status callback of the verification call, posted and signed as Twilio does."""

    def setUp(self):
        super().setUp()
        self.account.webhook_base_url = self.base_url()

    def _post(self, params, token=None):
        params = dict(params, AccountSid=self.account.twilio_account_sid)
        signature = RequestValidator(token or self.account.twilio_auth_token).compute_signature(
            self.account._webhook_url(CALLBACK), params)
        return self.url_open(CALLBACK, data=params, headers={'X-Twilio-Signature': signature})

    def test_success_callback_verifies_the_number_once(self):
        caller_id = self._add_and_call()
        params = {'CallSid': caller_id.validation_call_sid, 'VerificationStatus': 'success',
                  'OutgoingCallerIdSid': 'PN' + 'b' * 32, 'To': '+33612345678'}
        response = self._post(params)
        self.assertEqual(response.status_code, 204)
        self.assertEqual((caller_id.state, caller_id.provider_sid), ('verified', 'PN' + 'b' * 32))
        # Twilio retrying the callback changes nothing.
        self.assertEqual(self._post(dict(params, OutgoingCallerIdSid='PN' + 'c' * 32)).status_code, 204)
        self.assertEqual(caller_id.provider_sid, 'PN' + 'b' * 32)

    def test_failed_callback_found_by_number(self):
        caller_id = self._add_and_call()
        response = self._post({'CallSid': 'CA' + 'd' * 32, 'VerificationStatus': 'failed',
                               'PhoneNumber': '+33612345678'})
        self.assertEqual(response.status_code, 204)
        self.assertEqual(caller_id.state, 'failed')

    def test_unsigned_callback_is_refused_and_changes_nothing(self):
        caller_id = self._add_and_call()
        response = self._post({'CallSid': caller_id.validation_call_sid, 'VerificationStatus': 'success'},
                              token='not-the-auth-token')
        self.assertEqual(response.status_code, 403)
        self.assertEqual(caller_id.state, 'pending')


@tagged('post_install', '-at_install')
class TestCallerIdOnTwilio(CallerIdCase):
    """The same steps with the twilio provider, its REST calls checked against Twilio's OpenAPI
    spec by Prism (which answers with the spec's example: code 111111)."""

    def setUp(self):
        super().setUp()
        self.account.provider = 'twilio'
        self.http = http = PrismHttpClient()
        patcher = patch.object(type(self.env['telephony.account']), '_get_http_client', lambda self: http)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.api = f'/2010-04-01/Accounts/{self.account.twilio_account_sid}'

    def test_verification_through_twilio(self):
        caller_id = self._add_and_call()
        self.assertEqual(self.http.sent, [('POST', f'{self.api}/OutgoingCallerIds.json')])
        self.assertEqual(caller_id.state, 'pending')
        self.assertEqual(caller_id.validation_code, '111111')
        self.assertRegex(caller_id.validation_call_sid, r'^CA[0-9a-fA-F]{32}$')
        # The sandbox's simulated call is not available with the real provider.
        with self.assertRaisesRegex(UserError, 'answer the call'):
            caller_id.action_sandbox_answer_call()
        self.env['telephony.caller.id']._process_verification_result(self.account, {
            'CallSid': caller_id.validation_call_sid, 'VerificationStatus': 'success',
            'OutgoingCallerIdSid': 'PN' + 'a' * 32})
        self.assertEqual(caller_id.state, 'verified')

        # Removing it removes it at Twilio too.
        caller_id.unlink()
        self.assertEqual(self.http.sent[-1], ('DELETE', f'{self.api}/OutgoingCallerIds/{"PN" + "a" * 32}.json'))

    def test_twilio_refusal_leaves_the_caller_id_unverified(self):
        caller_id = self.CallerId.create({'phone_number': '+33612345678'})
        self.http.force_status = 429
        with self.assertRaisesRegex(UserError, 'rate-limiting'):
            caller_id.action_start_verification()
        self.assertEqual(caller_id.state, 'draft')
        self.assertFalse(caller_id.validation_code)
