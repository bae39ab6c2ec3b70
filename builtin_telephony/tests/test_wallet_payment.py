"""Buying credits and auto-recharge through Odoo's payment module, with payment_demo (W2, W4, W7)."""
import re
from urllib.parse import parse_qs, urlparse

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import ADMIN_GROUPS, TelephonyCase, demo_provider, demo_token
from .wallet_concurrency import committed_account, run_concurrently, run_in_new_transaction, run_in_threads


@tagged('post_install', '-at_install')
class TestBuyCredits(TelephonyCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = demo_provider(cls.env)
        cls.start_balance = cls.account.balance
        cls.Wizard = cls.env['telephony.credit.buy'].with_user(cls.telephony_admin)

    def _purchases(self):
        return self.env['telephony.wallet.transaction'].search(
            [('account_id', '=', self.account.id), ('kind', '=', 'purchase')])

    def _pay_on_payment_page(self, credits, simulated_state):
        """What /payment/pay and the demo form do: a transaction created with the values the
        purchase's transaction route gives (``controllers/payment.py``; the route itself is
        exercised in ``TestBuyCreditsOnThePaymentPage``), then the demo provider's notification
        and Odoo's post-processing (twice, as the status poll and the cron may both run it)."""
        wizard = self.Wizard.create({'account_id': self.account.id, 'credits': credits})
        action = wizard.action_pay()
        query = {key: values[0] for key, values in parse_qs(urlparse(action['url']).query).items()}
        self.assertEqual(urlparse(action['url']).path, '/payment/pay')
        self.assertEqual(float(query['amount']), wizard.price)
        purchase_values = self.env['telephony.credit.buy'].with_user(self.telephony_admin)._check_purchase(
            query['telephony_account_id'], query['telephony_credits'], query['telephony_access_token'],
            query['amount'], query['currency_id'])
        Transaction = self.env['payment.transaction'].with_user(self.telephony_admin).sudo()
        tx = Transaction.create({
            'provider_id': self.provider.id,
            'payment_method_id': self.provider.payment_method_ids[:1].id,
            'reference': Transaction._compute_reference('demo', prefix=query['reference']),
            'amount': float(query['amount']),
            'currency_id': int(query['currency_id']),
            'partner_id': int(query['partner_id']),
            'operation': 'online_direct',
            **purchase_values,
        })
        tx._handle_notification_data('demo', {'reference': tx.reference, 'payment_details': '4242',
                                              'simulated_state': simulated_state})
        tx._post_process()
        tx._post_process()
        return tx

    def test_the_price_is_shown_in_the_company_currency(self):
        wizard = self.Wizard.create({'account_id': self.account.id, 'credits': 25})
        self.assertEqual(wizard.currency_id, self.company.currency_id)
        self.assertAlmostEqual(wizard.price, self.account._credits_price(25))

    def test_a_done_payment_adds_the_credits_once(self):
        tx = self._pay_on_payment_page(40, 'done')
        self.assertEqual(tx.state, 'done')
        self.assertEqual((tx.telephony_account_id, tx.telephony_credits), (self.account, 40))
        purchase = self._purchases()
        self.assertEqual(len(purchase), 1)
        self.assertEqual((purchase.credits, purchase.reference, purchase.user_id, purchase.payment_transaction_id),
                         (40, tx.reference, self.telephony_admin, tx))
        self.assertAlmostEqual(self.account.balance, self.start_balance + 40)

    def test_a_failed_or_cancelled_payment_adds_nothing(self):
        for state, expected in [('error', 'error'), ('cancel', 'cancel')]:
            tx = self._pay_on_payment_page(40, state)
            self.assertEqual(tx.state, expected)
        self.assertFalse(self._purchases())
        self.assertAlmostEqual(self.account.balance, self.start_balance)

    def test_a_tampered_purchase_is_refused(self):
        wizard = self.Wizard.create({'account_id': self.account.id, 'credits': 40})
        query = {key: values[0] for key, values in parse_qs(urlparse(wizard.action_pay()['url']).query).items()}
        Buy = self.env['telephony.credit.buy'].with_user(self.telephony_admin)
        for field, value in [('telephony_credits', '400.00'), ('amount', '1.0'),
                             ('telephony_account_id', str(self.account.id + 1)),
                             ('telephony_access_token', 'forged')]:
            with self.subTest(field=field), self.assertRaises(AccessError):
                tampered = dict(query, **{field: value})
                Buy._check_purchase(tampered['telephony_account_id'], tampered['telephony_credits'],
                                    tampered['telephony_access_token'], tampered['amount'],
                                    tampered['currency_id'])
        with self.assertRaises(AccessError):  # a signed link is no use to a salesman
            self.env['telephony.credit.buy'].with_user(self.telephony_salesman)._check_purchase(
                query['telephony_account_id'], query['telephony_credits'], query['telephony_access_token'],
                query['amount'], query['currency_id'])

    def test_a_payment_is_credited_once_whatever_kind_it_claims(self):
        tx = self._pay_on_payment_page(40, 'done')
        balance = self.account.balance
        tx.write({'telephony_kind': 'auto_recharge', 'is_post_processed': False})
        tx._post_process()
        self.assertAlmostEqual(self.account.balance, balance)
        self.assertEqual(self.env['telephony.wallet.transaction'].search_count(
            [('payment_transaction_id', '=', tx.id)]), 1)

    def test_a_refund_takes_the_credits_back(self):
        tx = self._pay_on_payment_page(40, 'done')
        self.provider.support_refund = 'partial'
        # A partial refund from Odoo (the demo provider confirms it at once, and Odoo's cron
        # post-processes it), then the rest.
        tx.action_refund(amount_to_refund=tx.amount / 4)
        refund = self.env['payment.transaction'].search([('source_transaction_id', '=', tx.id)])
        self.assertEqual((len(refund), refund.state), (1, 'done'))
        refund._post_process()
        self.assertAlmostEqual(self.account.balance, self.start_balance + 30)
        refund._post_process()  # notified again: taken back once
        self.assertAlmostEqual(self.account.balance, self.start_balance + 30)
        tx.action_refund(amount_to_refund=tx.amount * 3 / 4)
        (tx.child_transaction_ids - refund)._post_process()
        self.assertAlmostEqual(self.account.balance, self.start_balance)
        lines = self.env['telephony.wallet.transaction'].search(
            [('account_id', '=', self.account.id), ('payment_transaction_id', 'in', tx.child_transaction_ids.ids)])
        self.assertEqual(sorted(lines.mapped('credits')), [-30, -10])

    def test_an_unmatched_credit_payment_is_logged(self):
        tx = self.env['payment.transaction'].sudo().create({
            'provider_id': self.provider.id, 'payment_method_id': self.provider.payment_method_ids[:1].id,
            'reference': 'TELCR-0123456789ab', 'amount': 10.0,
            'currency_id': self.company.currency_id.id, 'partner_id': self.company.partner_id.id,
        })
        tx._set_done()
        with self.assertLogs('odoo.addons.builtin_telephony.models.payment_transaction', 'ERROR') as logs:
            tx._post_process()
        self.assertIn('TELCR-0123456789ab', logs.output[0])
        self.assertAlmostEqual(self.account.balance, self.start_balance)

    def test_pay_with_a_saved_payment_method(self):
        token = demo_token(self.env, self.company.partner_id)
        wizard = self.Wizard.create({'account_id': self.account.id, 'credits': 15, 'token_choice': str(token.id)})
        action = wizard.action_pay()
        self.assertEqual(action['params']['type'], 'success')
        self.assertAlmostEqual(self.account.balance, self.start_balance + 15)
        self.assertEqual(self._purchases().user_id, self.telephony_admin)

    def test_a_saved_payment_method_pays_once_per_purchase(self):
        token = demo_token(self.env, self.company.partner_id)
        wizard = self.Wizard.create({'account_id': self.account.id, 'credits': 15, 'token_choice': str(token.id)})
        wizard.action_pay()
        wizard.action_pay()  # a retried request, a double click
        self.assertEqual(self.env['payment.transaction'].search_count(
            [('telephony_account_id', '=', self.account.id)]), 1)
        self.assertAlmostEqual(self.account.balance, self.start_balance + 15)

    def test_a_pending_saved_payment_method_is_shown_not_refused(self):
        token = demo_token(self.env, self.company.partner_id, 'pending')
        wizard = self.Wizard.create({'account_id': self.account.id, 'credits': 15, 'token_choice': str(token.id)})
        action = wizard.action_pay()
        self.assertEqual(action['params']['type'], 'warning')
        account = self.account.with_user(self.telephony_admin)
        self.assertEqual(account.pending_purchase_count, 1)
        self.assertIn('15.00 credits', account.pending_purchase_summary)
        self.assertAlmostEqual(self.account.balance, self.start_balance)
        tx = self.env['payment.transaction'].search([('telephony_account_id', '=', self.account.id)])
        tx._handle_notification_data('demo', {'reference': tx.reference, 'simulated_state': 'done'})
        tx._post_process()
        self.assertAlmostEqual(self.account.balance, self.start_balance + 15)
        account.invalidate_recordset()
        self.assertEqual(account.pending_purchase_count, 0)

    def test_a_declined_saved_payment_method_says_what_to_do(self):
        token = demo_token(self.env, self.company.partner_id, 'error')
        wizard = self.Wizard.create({'account_id': self.account.id, 'credits': 15, 'token_choice': str(token.id)})
        with self.assertRaisesRegex(UserError, "Try another payment method"):
            wizard.action_pay()
        self.assertAlmostEqual(self.account.balance, self.start_balance)

    def test_credits_to_buy_must_be_sensible(self):
        for credits in (0, -5, 1_000_000):
            with self.assertRaises(UserError):
                self.Wizard.create({'account_id': self.account.id, 'credits': credits}).action_pay()

    def test_a_salesman_cannot_buy_credits(self):
        with self.assertRaises(Exception):
            self.env['telephony.credit.buy'].with_user(self.telephony_salesman).create(
                {'account_id': self.account.id, 'credits': 10}).action_pay()

    def test_purchase_history_lists_purchases_only(self):
        self._pay_on_payment_page(12, 'done')
        self.account.add_credits(3, 'manual')
        self.account._charge('call', 1, 'CA-history')
        action = self.account.with_user(self.telephony_admin).action_view_purchase_history()
        history = self.env['telephony.wallet.transaction'].search(action['domain'])
        self.assertEqual(set(history.mapped('kind')), {'adjustment', 'purchase'})
        self.assertIn('manual', history.mapped('reference'))
        self.assertNotIn('CA-history', history.mapped('reference'))

    def test_purchase_history_in_the_pages_actions_menu(self):
        menu_action = self.env.ref('builtin_telephony.telephony_account_action_purchase_history')
        self.assertEqual(menu_action.binding_model_id.model, 'telephony.account')
        action = menu_action.with_user(self.telephony_admin).with_context(
            active_model='telephony.account', active_id=self.account.id, active_ids=self.account.ids).run()
        self.assertEqual(action['name'], "Credit purchase history")
        self.assertIn(('account_id', '=', self.account.id), action['domain'])


@tagged('post_install', '-at_install')
class TestAutoRecharge(TelephonyCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.write({
            'auto_recharge': True, 'auto_recharge_min': 10, 'auto_recharge_amount': 50,
            'auto_recharge_token_id': demo_token(cls.env, cls.company.partner_id).id,
        })

    def _recharges(self):
        return self.env['telephony.wallet.transaction'].search(
            [('account_id', '=', self.account.id), ('kind', '=', 'auto_recharge')])

    def test_a_charge_below_the_minimum_wakes_the_recharge_cron(self):
        cron = self.env.ref('builtin_telephony.ir_cron_telephony_auto_recharge')
        Trigger = self.env['ir.cron.trigger']
        triggers_before = Trigger.search([('cron_id', '=', cron.id)])
        self.account._charge('call', self.account.balance - 20, 'CA-above')  # 20 left: above 10
        self.assertEqual(Trigger.search([('cron_id', '=', cron.id)]), triggers_before)
        self.account._charge('call', 15, 'CA-below')  # 5 left
        self.assertEqual(len(Trigger.search([('cron_id', '=', cron.id)]) - triggers_before), 1)
        self.env['telephony.account']._cron_auto_recharge()
        self.assertEqual(len(self._recharges()), 1)
        self.assertAlmostEqual(self.account.balance, 55)

    def test_one_recharge_per_shortage(self):
        self.account._charge('call', self.account.balance - 5, 'CA-dip')
        first = self.account._auto_recharge()
        self.assertEqual(first.state, 'done')
        self.assertAlmostEqual(self.account.balance, 55)
        # The cron runs again while the balance is fine: nothing.
        self.env['telephony.account']._cron_auto_recharge()
        self.assertEqual(len(self._recharges()), 1)
        # A new shortage after the recharge: a new recharge.
        self.account._charge('call', 50, 'CA-dip-2')
        self.env['telephony.account']._cron_auto_recharge()
        self.assertEqual(len(self._recharges()), 2)
        self.assertAlmostEqual(self.account.balance, 55)

    def test_a_failed_recharge_notifies_once_and_is_not_retried(self):
        self.account.auto_recharge_token_id = demo_token(self.env, self.company.partner_id, 'error')
        self.account._charge('call', self.account.balance - 5, 'CA-dip')
        messages_before = len(self.account.message_ids)
        Account = self.env['telephony.account']
        for _run in range(3):
            Account._cron_auto_recharge()
        txs = self.env['payment.transaction'].search([('telephony_account_id', '=', self.account.id)])
        self.assertEqual((len(txs), txs.state), (1, 'error'))
        # (Field tracking of the set-up also posts; only the notices count here.)
        notices = self.account.message_ids[:len(self.account.message_ids) - messages_before].filtered('subject')
        self.assertEqual(notices.mapped('subject'), ['Auto-recharge failed'])
        self.assertIn(self.telephony_admin.partner_id, notices.partner_ids)
        self.assertFalse(self._recharges())
        self.assertAlmostEqual(self.account.balance, 5)
        # An administrator adds credits: the next shortage may be recharged again.
        self.account.add_credits(1, 'manual-after-failure')
        self.account.auto_recharge_token_id = demo_token(self.env, self.company.partner_id)
        Account._cron_auto_recharge()
        self.assertEqual(len(self._recharges()), 1)

    def test_a_recharge_without_payment_method_tells_administrators(self):
        self.account.auto_recharge_token_id = False
        self.account._charge('call', self.account.balance - 5, 'CA-dip')
        messages_before = len(self.account.message_ids)
        self.env['telephony.account']._cron_auto_recharge()
        self.env['telephony.account']._cron_auto_recharge()
        notices = self.account.message_ids[:len(self.account.message_ids) - messages_before].filtered('subject')
        self.assertEqual(len(notices), 1)
        self.assertIn('payment method', notices.body)

    def test_partner_managed_accounts_have_no_auto_recharge(self):
        self.account.partner_managed = True
        self.account._charge('call', self.account.balance - 5, 'CA-dip')
        self.env['telephony.account']._cron_auto_recharge()
        self.assertFalse(self.env['payment.transaction'].search([('telephony_account_id', '=', self.account.id)]))


@tagged('post_install', '-at_install')
class TestAutoRechargeConcurrency(TelephonyCase):

    def test_concurrent_recharges_of_one_shortage_make_one_payment(self):
        def set_up(env, account_id):
            account = env['telephony.account'].browse(account_id)
            account.write({
                'auto_recharge': True, 'auto_recharge_min': 10, 'auto_recharge_amount': 50,
                'auto_recharge_token_id': demo_token(env, account.company_id.partner_id).id,
            })
            account.add_credits(12, 'initial')
            return account.auto_recharge_token_id.id

        with committed_account(self.registry) as account_id:
            run_in_new_transaction(self.registry, lambda env: set_up(env, account_id))
            # 8 charges at once, each taking the balance (12) below the minimum (10) on its own,
            # and 8 workers recharging at once: one payment for the dip, whatever the timing.
            def charge_and_recharge(index):
                def run(env):
                    account = env['telephony.account'].browse(account_id)
                    account._charge('call', 3, f'CA-{index}')
                    account._auto_recharge()
                return run

            run_concurrently(self.registry, [charge_and_recharge(i) for i in range(8)])
            txs, recharges, balance = run_in_new_transaction(self.registry, lambda env: (
                env['payment.transaction'].search_count([('telephony_account_id', '=', account_id)]),
                env['telephony.wallet.transaction'].search_count(
                    [('account_id', '=', account_id), ('kind', '=', 'auto_recharge')]),
                env['telephony.account'].browse(account_id).balance))
        self.assertEqual((txs, recharges), (1, 1))
        self.assertAlmostEqual(balance, 12 - 8 * 3 + 50)


@tagged('post_install', '-at_install')
class TestBuyCreditsOnThePaymentPage(HttpCase):
    """The payment page (``/payment/pay``) and the purchase's own transaction route, over HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env['telephony.account']._get_for_company(cls.env.company)
        cls.provider = demo_provider(cls.env)
        cls.admin = new_test_user(cls.env, 'credit_buyer', groups=ADMIN_GROUPS, name="Carla Buyer")

    def _open_payment_page(self, url):
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        route = re.search(r'data-transaction-route="([^"]+)"', page.text).group(1)
        access_token = re.search(r'data-access-token="([^"]+)"', page.text).group(1)
        return route, access_token

    def test_a_slow_payer_gets_the_credits_quoted(self):
        wizard = self.env['telephony.credit.buy'].with_user(self.admin).create(
            {'account_id': self.account.id, 'credits': 40})
        url, price, balance = wizard.action_pay()['url'], wizard.price, self.account.balance
        wizard.sudo().unlink()  # the transient wizard is vacuumed while the buyer hesitates
        self.authenticate('credit_buyer', 'credit_buyer')
        route, access_token = self._open_payment_page(url)
        self.assertTrue(route.startswith(f'/telephony/credits/transaction/{self.account.id}/40.00/'), route)
        self.make_jsonrpc_request(route, {
            'provider_id': self.provider.id, 'payment_method_id': self.provider.payment_method_ids[:1].id,
            'token_id': None, 'amount': price, 'flow': 'direct', 'tokenization_requested': False,
            'landing_route': '/payment/confirmation', 'is_validation': False, 'access_token': access_token,
        })
        tx = self.env['payment.transaction'].search([('telephony_account_id', '=', self.account.id)])
        self.assertEqual((len(tx), tx.telephony_credits, tx.telephony_kind, tx.partner_id),
                         (1, 40, 'purchase', self.admin.partner_id))
        tx._handle_notification_data('demo', {'reference': tx.reference, 'simulated_state': 'done'})
        tx._post_process()
        self.assertAlmostEqual(self.account.balance, balance + 40)

    def test_the_transaction_route_refuses_a_forged_purchase(self):
        wizard = self.env['telephony.credit.buy'].with_user(self.admin).create(
            {'account_id': self.account.id, 'credits': 40})
        url, price = wizard.action_pay()['url'], wizard.price
        self.authenticate('credit_buyer', 'credit_buyer')
        route, access_token = self._open_payment_page(url)
        forged = route.replace('/40.00/', '/4000.00/')
        with self.assertRaises(Exception), mute_logger('odoo.http'):
            self.make_jsonrpc_request(forged, {
                'provider_id': self.provider.id, 'payment_method_id': self.provider.payment_method_ids[:1].id,
                'token_id': None, 'amount': price, 'flow': 'direct', 'tokenization_requested': False,
                'landing_route': '/payment/confirmation', 'is_validation': False, 'access_token': access_token,
            })
        self.assertFalse(self.env['payment.transaction'].search([('telephony_account_id', '=', self.account.id)]))


@tagged('post_install', '-at_install')
class TestBuyCreditsCommitted(TelephonyCase):
    """A purchase with a saved payment method, in real committed transactions (as a worker runs it)."""

    def test_a_pending_payment_survives_the_request_that_sent_it(self):
        with committed_account(self.registry) as account_id:
            def set_up(env):
                account = env['telephony.account'].browse(account_id)
                return demo_token(env, account.company_id.partner_id, 'pending').id

            token_id = run_in_new_transaction(self.registry, set_up)

            def buy_then_fail(env):
                account = env['telephony.account'].browse(account_id)
                wizard = env['telephony.credit.buy'].with_company(account.company_id).create(
                    {'account_id': account_id, 'credits': 15, 'token_choice': str(token_id)})
                wizard.action_pay()
                raise RuntimeError("the request fails once the payment was sent")

            # Outside the test thread, as in a worker: the purchase commits before it pays.
            with self.assertRaises(RuntimeError):
                run_in_threads([lambda: run_in_new_transaction(self.registry, buy_then_fail)])
            states = run_in_new_transaction(self.registry, lambda env: env['payment.transaction'].search(
                [('telephony_account_id', '=', account_id)]).mapped('state'))
        self.assertEqual(states, ['pending'], "the money may be taken: the payment must be kept")
