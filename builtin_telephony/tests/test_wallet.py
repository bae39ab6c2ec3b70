"""The credit wallet: ledger, idempotent charges, calls, numbers, shortages (requirements §5, N2-N3, P2)."""
import time
from datetime import date

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import TelephonyCase
from .wallet_concurrency import committed_account, run_concurrently, run_in_new_transaction, run_in_threads


@tagged('post_install', '-at_install')
class TestWallet(TelephonyCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Transaction = cls.env['telephony.wallet.transaction']
        cls.start_balance = cls.account.balance

    def _call(self, sid, direction='outbound', to_number='+14155550100', duration=61, number=None,
              from_number='+14155550199'):
        return self.env['telephony.call'].create({
            'provider_sid': sid, 'direction': direction, 'status': 'completed',
            'from_number': from_number, 'to_number': to_number, 'duration': duration,
            'number_id': number.id if number else False, 'company_id': self.company.id,
        })

    # -- ledger ---------------------------------------------------------------------------------

    def test_balance_is_the_sum_of_the_ledger(self):
        self.account.add_credits(20, 'manual-1')
        self.account._charge('call', 1.5, 'CA1')
        self.account._charge('storage', 0.25, 'storage-2025-01')
        self.assertAlmostEqual(self.account.balance, self.start_balance + 18.25)
        self.assertAlmostEqual(self.account.balance, sum(self.account.wallet_transaction_ids.mapped('credits')))
        charge = self.Transaction.search([('reference', '=', 'CA1')])
        self.assertEqual((charge.kind, charge.credits, charge.credits_out, charge.credits_in), ('call', -1.5, 1.5, 0))

    def test_a_charge_with_the_same_reference_happens_once(self):
        first = self.account._charge('call', 2.0, 'CA-retried')
        second = self.account._charge('call', 2.0, 'CA-retried')
        self.assertEqual(first, second)
        self.assertAlmostEqual(self.account.balance, self.start_balance - 2.0)
        # The same reference under another kind is another movement.
        self.account._charge('number', 1.0, 'CA-retried')
        self.assertAlmostEqual(self.account.balance, self.start_balance - 3.0)

    def test_a_top_up_with_the_same_reference_happens_once(self):
        self.account.with_user(self.telephony_admin).add_credits(10, 'cheque-42')
        self.account.with_user(self.telephony_admin).add_credits(10, 'cheque-42')
        top_up = self.Transaction.search([('reference', '=', 'cheque-42')])
        self.assertEqual((len(top_up), top_up.kind, top_up.user_id), (1, 'adjustment', self.telephony_admin))
        self.assertAlmostEqual(self.account.balance, self.start_balance + 10)

    def test_only_administrators_top_up(self):
        with self.assertRaises(AccessError):
            self.account.with_user(self.telephony_salesman).add_credits(10, 'gift')
        with self.assertRaises(UserError):
            self.account.with_user(self.telephony_admin).add_credits(-10, 'negative')
        self.assertFalse(self.Transaction.search([('reference', 'in', ['gift', 'negative'])]))

    def test_amounts_are_shown_in_the_company_currency(self):
        eur = self.env.ref('base.EUR')
        eur.active = True
        self.company.currency_id = eur  # no journal entry exists in the test database
        self.env['res.currency.rate'].create({'currency_id': eur.id, 'rate': 0.5, 'name': '2000-01-01',
                                              'company_id': self.company.id})
        self.env.ref('base.USD').rate_ids.filtered(lambda r: r.company_id in (self.company, False)).unlink()
        self.assertAlmostEqual(self.account._credits_price(30), 15.0)
        self.account.invalidate_recordset()
        self.assertAlmostEqual(self.account.balance_company_currency, self.account.balance / 2, places=2)

    # -- settled balance ------------------------------------------------------------------------

    def _ledger_sums(self):
        """``(sum of the ledger, sum of its settled lines, sum of its unsettled lines)``."""
        self.env.flush_all()
        self.env.cr.execute("""
            SELECT COALESCE(SUM(credits), 0), COALESCE(SUM(credits) FILTER (WHERE settled), 0),
                   COALESCE(SUM(credits) FILTER (WHERE NOT settled), 0)
              FROM telephony_wallet_transaction WHERE account_id = %s""", [self.account.id])
        return self.env.cr.fetchone()

    def test_settling_keeps_the_balance_the_sum_of_the_ledger(self):
        self.account.add_credits(20, 'before-settling')
        self.account._charge('call', 1.5, 'CA-before-settling')
        balance = self.account.balance
        self.account._cron_settle_balances()
        total, settled, unsettled = self._ledger_sums()
        self.assertAlmostEqual(self.account.balance, balance)
        self.assertAlmostEqual(self.account.balance, total)
        self.assertAlmostEqual(self.account.settled_balance, total)
        self.assertEqual((settled, unsettled), (total, 0))
        # Charges after settling add up, and stay unsettled until the next run.
        self.account._charge('call', 0.75, 'CA-after-settling')
        self.account.add_credits(3, 'after-settling')
        self.assertAlmostEqual(self.account.balance, balance + 2.25)
        self.assertAlmostEqual(self._ledger_sums()[2], 2.25)
        # A replayed charge or top-up, settled or not, still changes nothing.
        replay = self.account._charge('call', 1.5, 'CA-before-settling')
        self.account._charge('call', 0.75, 'CA-after-settling')
        self.account.add_credits(20, 'before-settling')
        self.assertEqual(replay, self.Transaction.search([('reference', '=', 'CA-before-settling')]))
        self.assertAlmostEqual(self.account.balance, balance + 2.25)
        self.account._cron_settle_balances()
        self.account._cron_settle_balances()  # nothing left to settle: no change
        total, settled, unsettled = self._ledger_sums()
        self.assertAlmostEqual(self.account.balance, balance + 2.25)
        self.assertAlmostEqual(self.account.settled_balance, total)
        self.assertEqual(unsettled, 0)

    def test_every_credit_check_reads_the_settled_balance(self):
        self._empty_the_wallet()
        self.account.add_credits(0.1, 'small-top-up')
        self.account._cron_settle_balances()
        self.assertEqual(self.account._outbound_time_limit('+14155550100'), 300)  # 0.02 per minute
        self.assertTrue(self.account._has_credit_for_calls('outbound', '+447700900123'))
        self.account._charge('call', 0.05, 'CA-after-settling')
        self.assertEqual(self.account._outbound_time_limit('+14155550100'), 120)
        self.assertFalse(self.account._has_credit_for_calls('outbound', '+447700900123'))  # 0.06 a minute
        # The charge statement's auto-recharge figure too.
        self.account.write({'auto_recharge': True, 'auto_recharge_min': 10})
        self.account._cron_settle_balances()
        _line, _created, recharge = self.env['telephony.wallet.transaction']._record(self.account, 'call', -0.01, 'CA-watched')
        self.assertAlmostEqual(recharge[0], 0.04)
        self.assertAlmostEqual(self.account.balance, 0.04)
        self.assertTrue(self.account._needs_auto_recharge())

    def test_the_balance_read_costs_the_same_and_reads_only_unsettled_lines(self):
        for index in range(20):
            self.account._charge('call', 0.01, f'CA-many-{index}')
        self.env.flush_all()
        with self.assertQueryCount(1):
            before = self.env['telephony.wallet.transaction']._balances(self.account)
        self.account._cron_settle_balances()
        self.account._charge('call', 0.01, 'CA-unsettled-1')
        self.account.add_credits(1, 'unsettled-2')
        self.env.flush_all()
        with self.assertQueryCount(1):
            after = self.env['telephony.wallet.transaction']._balances(self.account)
        self.assertAlmostEqual(after[self.account.id], before[self.account.id] + 0.99)
        # A test ledger is too small for the planner to prefer an index over the table: without
        # sequential scans, it shows which index serves the read and how many lines it reads.
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.env.cr.execute(SQL("EXPLAIN (ANALYZE, FORMAT JSON) %s", self.env['telephony.wallet.transaction']._balances_query(self.account)))
        plan = self.env.cr.fetchone()[0][0]['Plan']
        self.env.cr.execute("RESET enable_seqscan")

        def nodes(node):
            yield node
            for child in node.get('Plans', []):
                yield from nodes(child)
        ledger_scans = [node for node in nodes(plan) if node.get('Relation Name') == 'telephony_wallet_transaction']
        self.assertEqual([(node['Node Type'], node['Index Name'], node['Actual Rows']) for node in ledger_scans],
                         [('Index Only Scan', 'telephony_wallet_transaction_unsettled_index', 2)])

    # -- calls ----------------------------------------------------------------------------------

    def test_a_call_is_rated_per_started_minute_and_charged_once(self):
        call = self._call('CA-out-1', to_number='+447700900123', duration=121)  # UK mobile, 3 min
        transaction = call._charge(self.account)
        self.assertAlmostEqual(transaction.credits, -0.18)  # 3 × 0.06
        self.assertAlmostEqual(call.credits, 0.18)
        self.assertEqual((transaction.kind, transaction.reference, transaction.call_id), ('call', 'CA-out-1', call))
        call._charge(self.account)  # Twilio retries the status callback
        self.assertEqual(self.Transaction.search_count([('reference', '=', 'CA-out-1')]), 1)
        self.assertAlmostEqual(self.account.balance, self.start_balance - 0.18)

    def test_an_incoming_call_is_rated_on_our_number_and_its_type(self):
        number = self._buy(number_type='toll_free')
        balance = self.account.balance
        call = self._call('CA-in-1', direction='inbound', to_number=number.phone_number,
                          from_number='+447700900123', duration=60, number=number)
        call._charge(self.account)
        self.assertAlmostEqual(call.credits, 0.025)  # US toll-free incoming, 1 minute
        self.assertAlmostEqual(self.account.balance, balance - 0.025)

    def test_a_call_of_zero_seconds_costs_nothing(self):
        call = self._call('CA-short', duration=0)
        self.assertFalse(call._charge(self.account))
        self.assertEqual(call.credits, 0.0)
        self.assertFalse(self.Transaction.search([('reference', '=', 'CA-short')]))

    def test_the_rate_table_is_editable(self):
        self.env['telephony.rate'].create({'name': 'Japan', 'direction': 'outbound', 'prefix': '81',
                                           'price_per_minute': 0.5})
        call = self._call('CA-jp', to_number='+81312345678', duration=30)
        call._charge(self.account)
        self.assertAlmostEqual(call.credits, 0.5)

    # -- running out ----------------------------------------------------------------------------

    def _empty_the_wallet(self):
        self.account._charge('call', self.account.balance, 'empty-the-wallet')
        self.assertAlmostEqual(self.account.balance, 0.0)

    def test_outgoing_time_limit_follows_the_balance(self):
        self._empty_the_wallet()
        self.account.add_credits(0.1, 'small-top-up')
        # 0.1 credits at 0.02 per minute to the US: 5 minutes.
        self.assertEqual(self.account._outbound_time_limit('+14155550100'), 300)
        # 0.06 per minute to a UK mobile: 1 whole minute.
        self.assertEqual(self.account._outbound_time_limit('+447700900123'), 60)
        # The rest of the world (0.20): not one minute.
        self.assertEqual(self.account._outbound_time_limit('+81312345678'), 0)
        self.account.overdraft_limit = 0.3
        self.assertEqual(self.account._outbound_time_limit('+81312345678'), 120)

    def test_out_of_credits_refuses_calls_and_tells_administrators_once(self):
        self._empty_the_wallet()
        messages_before = len(self.account.message_ids)
        self.assertFalse(self.account._has_credit_for_calls())
        self.assertFalse(self.account._has_credit_for_calls('outbound', '+14155550100'))
        self.assertFalse(self.account._has_credit_for_calls())
        notices = self.account.message_ids[:len(self.account.message_ids) - messages_before]
        self.assertEqual(len(notices), 1)
        self.assertIn(self.telephony_admin.partner_id, notices.partner_ids)
        self.assertNotIn(self.telephony_salesman.partner_id, notices.partner_ids)
        # Credits arrive: calls go through, and the next shortage is announced again.
        self.account.add_credits(5, 'top-up-after-shortage')
        self.assertTrue(self.account._has_credit_for_calls())
        self._empty_the_wallet_again()
        self.assertFalse(self.account._has_credit_for_calls())
        self.assertEqual(len(self.account.message_ids) - messages_before, 2)

    def _empty_the_wallet_again(self):
        self.account._charge('call', self.account.balance, 'empty-the-wallet-again')

    def test_an_allowed_overdraft_keeps_calls_going(self):
        self._empty_the_wallet()
        self.account.overdraft_limit = 1.0
        self.assertTrue(self.account._has_credit_for_calls())
        self.account._charge('call', 0.9, 'into-the-overdraft')
        self.assertAlmostEqual(self.account.balance, -0.9)
        self.assertTrue(self.account._has_credit_for_calls('outbound', '+447700900123'))  # 0.1 left, 0.06 a minute
        self.assertFalse(self.account._has_credit_for_calls('outbound', '+81312345678'))  # 0.20 a minute

    # -- numbers --------------------------------------------------------------------------------

    def test_buying_a_number_charges_its_first_month(self):
        number = self._buy()
        charge = self.Transaction.search([('number_id', '=', number.id)])
        self.assertEqual((charge.kind, charge.credits), ('number', -number.monthly_price))
        self.assertAlmostEqual(self.account.balance, self.start_balance - number.monthly_price)

    def test_a_number_is_not_bought_without_the_credits_of_its_first_month(self):
        self._empty_the_wallet()
        numbers_before = self.env['telephony.number'].search_count([])
        with self.assertRaisesRegex(UserError, "Buy credits"):
            self._buy()
        self.assertEqual(self.env['telephony.number'].search_count([]), numbers_before)
        self.assertAlmostEqual(self.account.balance, 0.0)

    def test_numbers_are_charged_monthly_on_their_anniversary(self):
        with freeze_time('2025-01-31 10:00:00'):
            number = self._buy()
        price = number.monthly_price
        self.assertEqual(number.paid_until, date(2025, 2, 28))
        Number = self.env['telephony.number']
        for day, months_charged in [('2025-02-27', 1), ('2025-02-28', 2), ('2025-03-01', 2),
                                    ('2025-03-31', 3), ('2025-03-31', 3)]:  # the cron runs twice
            with freeze_time(day + ' 23:00:00'):
                Number._cron_charge_monthly()
            charges = self.Transaction.search([('number_id', '=', number.id)])
            self.assertEqual(len(charges), months_charged, day)
        self.assertEqual(number.paid_until, date(2025, 4, 30))
        self.assertEqual(sorted(charges.mapped('reference')), [
            f'number-{number.id}-2025-01-31', f'number-{number.id}-2025-02-28', f'number-{number.id}-2025-03-31'])
        # A cron that did not run for two months catches up, month by month.
        with freeze_time('2025-06-15'):
            Number._cron_charge_monthly()
        self.assertEqual(self.Transaction.search_count([('number_id', '=', number.id)]), 5)
        self.assertEqual(number.paid_until, date(2025, 6, 30))
        self.assertAlmostEqual(self.account.balance, self.start_balance - 5 * price)

    def test_a_released_number_stops_costing(self):
        with freeze_time('2025-01-10'):
            number = self._buy()
            number.with_user(self.telephony_admin).action_release()
        with freeze_time('2025-03-10'):
            self.env['telephony.number']._cron_charge_monthly()
        self.assertEqual(self.Transaction.search_count([('kind', '=', 'number'), ('account_id', '=', self.account.id)]), 1)

    # -- storage plans --------------------------------------------------------------------------

    def test_a_storage_plan_is_charged_once_a_month(self):
        self.account.storage_plan = '200k'
        with freeze_time('2025-03-31 23:59:00'):
            self.account._cron_charge_storage_plans()
            self.account._cron_charge_storage_plans()
        with freeze_time('2025-04-01 00:01:00'):
            self.account._cron_charge_storage_plans()
        charges = self.Transaction.search([('account_id', '=', self.account.id), ('kind', '=', 'storage')])
        self.assertEqual(sorted(charges.mapped('reference')), ['storage-2025-03', 'storage-2025-04'])
        self.assertEqual(charges.mapped('credits'), [-50.0, -50.0])
        self.account.storage_plan = 'free'
        self.assertFalse(self.account._charge_storage_plan(date(2025, 5, 1)))


@tagged('post_install', '-at_install')
class TestWalletConcurrency(TelephonyCase):
    """Several workers charging one wallet at the same time (real, committed transactions)."""

    def test_concurrent_charges_give_the_exact_balance(self):
        with committed_account(self.registry) as account_id:
            run_in_new_transaction(self.registry, lambda env: env['telephony.account'].browse(account_id)
                                   .add_credits(100, 'initial'))

            def charge(index):
                def run(env):
                    account = env['telephony.account'].browse(account_id)
                    for step in range(10):
                        account._charge('call', 0.0123, f'CA-{index}-{step}')
                return run

            run_concurrently(self.registry, [charge(i) for i in range(16)])
            balance, lines = run_in_new_transaction(self.registry, lambda env: (
                env['telephony.account'].browse(account_id).balance,
                env['telephony.wallet.transaction'].search_count([('account_id', '=', account_id)])))
        self.assertEqual(lines, 1 + 160)
        self.assertAlmostEqual(balance, 100 - 160 * 0.0123, places=6)

    def test_settling_while_workers_charge_keeps_the_exact_balance(self):
        with committed_account(self.registry) as account_id:
            run_in_new_transaction(self.registry, lambda env: env['telephony.account'].browse(account_id)
                                   .add_credits(100, 'initial'))

            def worker(index):
                # A worker answers one webhook per transaction, each charging once.
                def run():
                    for step in range(10):
                        run_in_new_transaction(self.registry, lambda env: env['telephony.account'].browse(
                            account_id)._charge('call', 0.0123, f'CA-{index}-{step}'))
                return run

            def settler():
                for _run in range(10):
                    run_in_new_transaction(self.registry, lambda env: env['telephony.wallet.transaction']._settle(
                        env['telephony.account'].browse(account_id)))
                    time.sleep(0.002)

            run_in_threads([worker(i) for i in range(12)] + [settler] * 2)

            def figures(env):
                env.cr.execute("""
                    SELECT COALESCE(SUM(credits), 0), COALESCE(SUM(credits) FILTER (WHERE NOT settled), 0),
                           COUNT(*), COUNT(*) FILTER (WHERE settled)
                      FROM telephony_wallet_transaction WHERE account_id = %s""", [account_id])
                ledger = env.cr.fetchone()
                account = env['telephony.account'].browse(account_id)
                return (account.balance, account.settled_balance, *ledger)

            balance, settled_balance, total, unsettled, lines, settled_lines = run_in_new_transaction(
                self.registry, figures)
            run_in_new_transaction(self.registry, lambda env: env['telephony.wallet.transaction']._settle(
                env['telephony.account'].browse(account_id)))
            final = run_in_new_transaction(self.registry, figures)
        self.assertEqual(lines, 1 + 120)
        self.assertGreater(settled_lines, 1)  # the settlers did run among the charges
        self.assertAlmostEqual(balance, 100 - 120 * 0.0123, places=6)
        self.assertAlmostEqual(balance, total, places=6)
        self.assertAlmostEqual(settled_balance + unsettled, total, places=6)
        self.assertAlmostEqual(final[0], balance, places=6)
        self.assertAlmostEqual(final[1], total, places=6)
        self.assertEqual((final[3], final[5]), (0, lines))

    def test_concurrent_retries_of_one_charge_charge_once(self):
        with committed_account(self.registry) as account_id:
            def charge(env):
                return env['telephony.account'].browse(account_id)._charge('call', 1.25, 'CA-duplicate').id

            ids = run_concurrently(self.registry, [charge] * 8)
            balance, lines = run_in_new_transaction(self.registry, lambda env: (
                env['telephony.account'].browse(account_id).balance,
                env['telephony.wallet.transaction'].search_count([('account_id', '=', account_id)])))
        self.assertEqual(len(set(ids)), 1)
        self.assertEqual(lines, 1)
        self.assertAlmostEqual(balance, -1.25)


@tagged('post_install', '-at_install')
class TestCreditAnalytics(TelephonyCase):

    def test_purchased_and_used_per_period(self):
        account = self.account.with_user(self.telephony_admin)
        self.env['telephony.wallet.transaction'].search([('account_id', '=', self.account.id)]).unlink()
        moves = [('2025-03-31 23:30:00', 'purchase', 100), ('2025-04-01 08:00:00', 'call', -2.5),
                 ('2025-04-02 09:00:00', 'refund', 0.5), ('2025-04-15 10:00:00', 'auto_recharge', 30),
                 ('2025-04-20 10:00:00', 'number', -3), ('2025-06-30 10:00:00', 'storage', -25)]
        for index, (when, kind, credits) in enumerate(moves):
            self.env['telephony.wallet.transaction']._record(self.account, kind, credits, f'move-{index}', date=when)
        with freeze_time('2025-04-20 12:00:00'):
            month = account.get_credit_analytics('this_month')
            last_month = account.get_credit_analytics('last_month')
            quarter = account.get_credit_analytics('this_quarter')
            custom = account.get_credit_analytics('custom', '2025-03-31', '2025-04-01')
        self.assertEqual((month['purchased'], month['used']), (30, 5.0))  # 2.5 - 0.5 refunded + 3
        self.assertEqual((month['date_from'], month['date_to'], month['bucket']), ('2025-04-01', '2025-04-30', 'day'))
        # One bar per day of the month, empty days included (the axis reads as a calendar).
        self.assertEqual([point['label'] for point in month['series']],
                         ['2025-04-%02d' % day for day in range(1, 31)])
        used = {point['label']: point['used'] for point in month['series'] if point['used']}
        self.assertEqual(used, {'2025-04-01': 2.5, '2025-04-02': -0.5, '2025-04-20': 3})
        self.assertEqual([point['label'] for point in quarter['series']][:3],
                         ['2025-03-31', '2025-04-07', '2025-04-14'])  # weeks, labelled by their Monday
        self.assertEqual(len(quarter['series']), 14)
        self.assertEqual((last_month['purchased'], last_month['used']), (100, 0))
        self.assertEqual((quarter['purchased'], quarter['used']), (30, 30.0))
        self.assertEqual((custom['purchased'], custom['used']), (100, 2.5))
        self.assertAlmostEqual(self.account.balance, 100)
        with self.assertRaises(UserError):
            self.account.with_user(self.telephony_salesman).get_credit_analytics('this_month')

    def test_periods_follow_the_user_time_zone(self):
        self.telephony_admin.tz = 'America/New_York'
        self.env['telephony.wallet.transaction']._record(self.account, 'purchase', 10, 'late-evening', date='2025-05-01 02:00:00')  # 30 April, 22:00 in New York
        with freeze_time('2025-05-10'):
            figures = self.account.with_user(self.telephony_admin).get_credit_analytics('last_month')
        self.assertEqual(figures['purchased'], 10)
