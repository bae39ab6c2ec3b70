"""Spending limits against toll fraud (B5), through calls placed by the softphone and driven by
tests/twilio_driver.py: allowed countries, the company's and a user's daily limit, the time limit
that never lets a call pass them, the 80% / 100% notices (once a day), and calls placed at the same
moment from several workers."""
import time
import uuid
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from .common import FlowCase
from .twilio_driver import TwilioDriver
from .wallet_concurrency import run_concurrently, run_in_new_transaction

US_PRICE = 0.02   # credits per minute of an outgoing call to the United States (data/)
NEW_YORK = '+12125550142'
PARIS = '+33612345678'


@tagged('post_install', '-at_install')
class TestSpendingLimits(HttpCase, FlowCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.country_id = cls.env.ref('base.us')
        cls.account.webhook_base_url = cls.base_url()
        cls.account.add_credits(100, 'test-spending-limits')
        cls.number = cls._number('+14155550100')
        (cls.alice | cls.bob).write({'caller_id_number_ids': [(6, 0, cls.number.ids)]})

    def setUp(self):
        super().setUp()
        self.driver = TwilioDriver(self, self.account)
        self.assertEqual(self.account._telephony_admins().mapped('name'),
                         ['Administrator', 'Tess Admin'])

    def record(self, call):
        return self.env['telephony.call'].search([('provider_sid', '=', call.sid)])

    def call_out(self, telephony_user, destination=NEW_YORK):
        return self.driver.outgoing_call(telephony_user.client_identity, destination)

    def time_limit(self, call):
        self.assertEqual(call.waiting and call.waiting[0], 'dial', call.said)
        return int(call.waiting[1].get('timeLimit'))

    def notices(self):
        return self.env['mail.message'].search([
            ('model', '=', 'telephony.account'), ('res_id', '=', self.account.id),
            ('subject', 'ilike', 'daily limit of outgoing calls')], order='id')

    # -- Countries ------------------------------------------------------------------------

    def test_only_the_companys_country_by_default(self):
        call = self.call_out(self.alice, PARIS)
        self.assertTrue(call.ended)
        self.assertEqual(call.said, [
            'Calls to France are not allowed from this company. A telephony administrator '
            '(Administrator, Tess Admin) can allow that country on the Built-in Telephony page, '
            'Plan details tab.'])
        record = self.record(call)
        self.assertEqual((record.status, record.step_ids.mapped('event')),
                         ('failed', ['country_refused']))
        self.assertEqual(self.time_limit(self.call_out(self.alice)), 4 * 60 * 60)

    def test_allowed_countries_and_china_stays_refused(self):
        self.account.with_user(self.telephony_admin).allowed_country_ids = (
            self.env.ref('base.fr') | self.env.ref('base.cn'))
        self.assertGreater(self.time_limit(self.call_out(self.alice, PARIS)), 0)
        call = self.call_out(self.alice)
        self.assertIn('Calls to United States are not allowed', call.said[0])
        china = self.call_out(self.alice, '+8613800138000')
        self.assertEqual(self.record(china).step_ids.mapped('event'), ['destination_refused'])

    # -- Daily limits --------------------------------------------------------------------

    def test_company_limit_cuts_refuses_and_notifies_once(self):
        self.account.with_user(self.telephony_admin).daily_spend_limit = 10 * US_PRICE
        first = self.call_out(self.alice)
        self.assertEqual(self.time_limit(first), 10 * 60, "ten minutes are left today")
        first.callee_answers(5 * 60)
        self.assertFalse(self.notices(), "50%: nothing to say yet")
        second = self.call_out(self.bob)
        self.assertEqual(self.time_limit(second), 5 * 60)
        second.callee_answers(4 * 60)
        notices = self.notices()
        self.assertEqual(len(notices), 1)
        self.assertEqual(notices.subject, "80% of the company's daily limit of outgoing calls")
        self.assertIn('0.18 of 0.20 credits', str(notices.body))
        self.assertEqual(notices.partner_ids, self.account._telephony_admins().partner_id)
        self.assertIn(self.telephony_admin.partner_id, notices.partner_ids)
        third = self.call_out(self.alice)
        self.assertEqual(self.time_limit(third), 60)
        # The callee talks as long as the time limit lets them: the limit is reached, not passed.
        third.callee_answers(60)
        self.assertAlmostEqual(self.account._outbound_spent(self.account._spend_day_bounds()[1]),
                               10 * US_PRICE)
        refused = self.call_out(self.bob)
        self.assertTrue(refused.ended)
        self.assertEqual(refused.said, [
            'Your company has reached its daily limit of 0.20 credits for outgoing calls. A '
            'telephony administrator (Administrator, Tess Admin) can raise it on the Built-in '
            'Telephony page, Plan details tab.'])
        self.assertEqual(self.record(refused).step_ids.mapped('event'), ['spend_limit'])
        self.call_out(self.alice)
        self.assertEqual(self.notices().mapped('subject'), [
            "80% of the company's daily limit of outgoing calls",
            "100% of the company's daily limit of outgoing calls"], "each told once")

    def test_user_limit_and_the_next_day(self):
        self.alice.daily_spend_limit = 3 * US_PRICE
        with freeze_time('2026-11-30 10:00:00'):
            call = self.call_out(self.alice)
            self.assertEqual(self.time_limit(call), 3 * 60)
            call.callee_answers(3 * 60)
            refused = self.call_out(self.alice)
            self.assertEqual(refused.said, [
                'You have reached your daily limit of 0.06 credits for outgoing calls. A telephony '
                'administrator (Administrator, Tess Admin) can raise it on your telephony '
                'user.'])
            self.assertEqual(self.notices().subject,
                             "Alice Agent: 100% of the daily limit of outgoing calls")
            self.assertGreater(self.time_limit(self.call_out(self.bob)), 3 * 60,
                               "Bob has no limit of his own")
        with freeze_time('2026-12-01 10:00:00'):
            self.assertEqual(self.time_limit(self.call_out(self.alice)), 3 * 60, "a new day")

    def test_live_calls_reserve_what_they_may_spend(self):
        self.account.with_user(self.telephony_admin).daily_spend_limit = 10 * US_PRICE
        first = self.call_out(self.alice)
        self.assertEqual(self.time_limit(first), 10 * 60)
        self.assertAlmostEqual(self.record(first).reserved_credits, 10 * US_PRICE)
        # While the first call may still spend everything, nothing is left for a second one.
        second = self.call_out(self.bob)
        self.assertEqual(self.record(second).step_ids.mapped('event'), ['spend_limit'])
        first.callee_answers(2 * 60)
        self.assertEqual(self.record(first).reserved_credits, 0)
        self.assertEqual(self.time_limit(self.call_out(self.bob)), 8 * 60)



@tagged('post_install', '-at_install')
class TestSpendingLimitsConcurrency(TransactionCase):
    """Real transactions at the same moment (an HttpCase would share one test transaction)."""

    def test_concurrent_calls_do_not_pass_the_limit(self):
        """Eight workers place a call at the same moment, each in its own transaction."""
        registry = self.registry
        suffix = uuid.uuid4().hex[:8]

        def create(env):
            company = env['res.company'].create({'name': 'Limit Co %s' % suffix,
                                                 'country_id': env.ref('base.us').id})
            account = env['telephony.account']._get_for_company(company)
            account.write({'provider': 'sandbox', 'daily_spend_limit': 5 * US_PRICE})
            account.add_credits(50, 'limit-test-%s' % suffix)
            number = env['telephony.number'].create({
                'account_id': account.id, 'phone_number': '+14155550177',
                'country_id': env.ref('base.us').id, 'number_type': 'local',
                'provider_sid': 'PN' + suffix.zfill(32)})
            users = [env['telephony.user'].create({
                'user_id': new_test_user(env, 'limit-%s-%s' % (index, suffix),
                                         groups='base.group_user', company_id=company.id,
                                         company_ids=[(6, 0, company.ids)]).id,
                'company_id': company.id, 'caller_id_number_ids': [(6, 0, number.ids)],
            }) for index in range(8)]
            return account.id, [user.client_identity for user in users]

        account_id, identities = run_in_new_transaction(registry, create)
        try:
            def place(index):
                def run(env):
                    account = env['telephony.account'].browse(account_id)
                    env['telephony.call']._twilio_outgoing(account, {
                        'CallSid': 'CA%s%030d' % (suffix[:2], index), 'From': 'client:' + identities[index],
                        'To': NEW_YORK})
                return run
            # Each worker dawdles between reading the day's spending and reserving its share,
            # so that without serialisation they would all see the whole limit free.
            Account = type(self.env['telephony.account'])
            spent = Account._outbound_spent

            def slow_spent(account, *args, **kwargs):
                result = spent(account, *args, **kwargs)
                time.sleep(0.2)
                return result
            with patch.object(Account, '_outbound_spent', slow_spent):
                run_concurrently(registry, [place(index) for index in range(8)])

            def outcome(env):
                calls = env['telephony.call'].search([('to_number', '=', NEW_YORK),
                                                      ('company_id.name', '=', 'Limit Co %s' % suffix)])
                return (sum(calls.mapped('reserved_credits')), calls.mapped('time_limit'),
                        calls.mapped('status'))
            reserved, limits, statuses = run_in_new_transaction(registry, outcome)
        finally:
            def drop(env):
                account = env['telephony.account'].browse(account_id)
                company = account.company_id
                env['telephony.call'].search([('company_id', '=', company.id)]).unlink()
                env.cr.execute("DELETE FROM telephony_wallet_transaction WHERE account_id = %s",
                               [account_id])
                telephony_users = env['telephony.user'].search([('company_id', '=', company.id)])
                users = telephony_users.user_id
                telephony_users.unlink()
                env['telephony.number'].search([('account_id', '=', account_id)]).unlink()
                account.unlink()
                partners = users.partner_id | company.partner_id
                users.unlink()
                company.unlink()
                partners.unlink()
            run_in_new_transaction(registry, drop)
        self.assertEqual(len(statuses), 8)
        self.assertLessEqual(reserved, 5 * US_PRICE + 1e-9, "the limit is never passed")
        self.assertEqual(sum(limits), 5 * 60, "five minutes in all, whoever got them")
        self.assertEqual(statuses.count('failed'), 8 - len([limit for limit in limits if limit]))
