"""Recording storage (requirements R2, R4, R5): plans bought through the wallet, refused downgrades, the
usage chart, and the retention job (committed batches with cron progress, resuming)."""
import xmlrpc.client
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from ..models import telephony_recording
from .common import ADMIN_GROUPS, TelephonyCase
from .test_recordings import CountingGateway, RecordingFixtures


@tagged('post_install', '-at_install')
class TestStoragePlans(RecordingFixtures, TelephonyCase):

    def setUp(self):
        super().setUp()
        self.admin_account = self.account.with_user(self.telephony_admin)

    def storage_lines(self):
        return self.account.wallet_transaction_ids.filtered(lambda line: line.kind == 'storage')

    @freeze_time('2026-11-12 10:00:00')
    def test_plan_up_charged_once_a_month_at_the_highest_plan(self):
        balance = self.account.balance
        summary = self.admin_account.get_storage_plan_summary('50k')
        self.assertEqual({key: summary[key] for key in ('monthly_price', 'due_now', 'limit_minutes', 'allowed')},
                         {'monthly_price': 25.0, 'due_now': 25.0, 'limit_minutes': 50_000, 'allowed': True})
        result = self.admin_account.set_storage_plan('50k')
        self.assertEqual(result, {'plan': '50k', 'charged': 25.0, 'storage_limit_minutes': 50_000})
        self.assertEqual((self.account.storage_plan, self.account.storage_limit_minutes), ('50k', 50_000))
        self.assertAlmostEqual(self.account.balance, balance - 25)
        # Up again in the same month: only the difference.
        self.assertEqual(self.admin_account.set_storage_plan('200k')['charged'], 25.0)
        self.assertAlmostEqual(self.account.balance, balance - 50)
        # The monthly charge of this month finds it paid; next month's is the plan's price.
        self.account._cron_charge_storage_plans()
        self.assertAlmostEqual(self.account.balance, balance - 50)
        with freeze_time('2026-12-01 06:00:00'):
            self.account._cron_charge_storage_plans()
            self.account._cron_charge_storage_plans()
        self.assertAlmostEqual(self.account.balance, balance - 100)
        self.assertEqual(sorted(self.storage_lines().mapped('reference')),
                         ['storage-2026-11-200k', 'storage-2026-11-50k', 'storage-2026-12'])

    @freeze_time('2026-11-12 10:00:00')
    def test_plan_down_and_refused(self):
        self.admin_account.set_storage_plan('200k')
        balance = self.account.balance
        self.assertEqual(self.admin_account.set_storage_plan('50k')['charged'], 0.0, "already paid this month")
        self.assertAlmostEqual(self.account.balance, balance)
        self._recording(2000 * 60, with_audio=False)
        with self.assertRaisesRegex(UserError, "2,000 minutes of recordings are stored, more than the 1,000 minutes"):
            self.admin_account.set_storage_plan('free')
        self.assertEqual(self.account.storage_plan, '50k')
        with self.assertRaisesRegex(UserError, "Unknown storage plan 2m"):
            self.admin_account.set_storage_plan('2m')
        with self.assertRaises(AccessError):
            self.account.with_user(self.telephony_salesman).set_storage_plan('1m')

    @freeze_time('2026-11-12 10:00:00')
    def test_plan_the_credits_cannot_pay_is_refused(self):
        self.account._charge('number', self.account.balance - 10, 'drain')
        self.assertFalse(self.admin_account.get_storage_plan_summary('50k')['allowed'])
        with self.assertRaisesRegex(UserError, "This plan costs 25.00 credits now and 10.00 credits are available"):
            self.admin_account.set_storage_plan('50k')
        self.assertEqual(self.account.storage_plan, 'free')
        self.assertFalse(self.storage_lines())

    def test_plan_change_wizard_shows_the_purchase_summary(self):
        wizard = self.env['telephony.storage.plan.change'].with_user(self.telephony_admin).with_context(
            active_model='telephony.account', active_id=self.account.id).create({})
        self.assertEqual((wizard.account_id, wizard.current_plan, wizard.storage_plan), (self.account, 'free', '50k'))
        self.assertEqual((wizard.limit_minutes, wizard.monthly_price, wizard.refusal), (50_000, 25.0, False))
        wizard.action_confirm()
        self.assertEqual(self.account.storage_plan, '50k')

    @freeze_time('2026-11-12 10:00:00')
    def test_usage_chart_month_by_month(self):
        self.telephony_admin.tz = 'UTC'
        self._recording(600, date='2025-01-10 10:00:00', with_audio=False)   # before the chart
        self._recording(120, date='2026-09-30 10:00:00', with_audio=False)
        self._recording(300, date='2026-11-02 10:00:00', with_audio=False)
        self._recording(900, date='2026-10-05 10:00:00', state='deleted')    # deleted: not counted
        usage = self.admin_account.get_storage_usage(months=3)
        self.assertEqual(usage, {
            'used_minutes': 17.0, 'limit_minutes': 1000, 'plan': 'free', 'retention': 'never',
            'series': [{'month': '2026-09', 'recorded': 2.0, 'used': 12.0},
                       {'month': '2026-10', 'recorded': 0.0, 'used': 12.0},
                       {'month': '2026-11', 'recorded': 5.0, 'used': 17.0}]})
        self.assertEqual(len(self.admin_account.get_storage_usage()['series']), 12)


@tagged('post_install', '-at_install')
class TestStoragePlanXmlRpc(HttpCase):
    """``set_storage_plan`` and the storage figures through XML-RPC, as an outside client."""

    def test_set_storage_plan_over_xmlrpc(self):
        admin = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Rita RPC', 'login': 'rita', 'password': 'rita-password-1',
            'groups_id': [(6, 0, [self.env.ref(group).id for group in ADMIN_GROUPS.split(',')])]})
        account = self.env['telephony.account']._get_for_company(self.env.company)
        account.add_credits(60, 'test-xmlrpc-storage')
        models = xmlrpc.client.ServerProxy(f'{self.base_url()}/xmlrpc/2/object', allow_none=False)
        call = lambda method, *args: models.execute_kw(  # noqa: E731
            self.env.cr.dbname, admin.id, 'rita-password-1', 'telephony.account', method, *args)
        self.assertEqual(call('set_storage_plan', [[account.id], '50k']),
                         {'plan': '50k', 'charged': 25.0, 'storage_limit_minutes': 50_000})
        [figures] = call('read', [[account.id], ['storage_plan', 'storage_used_minutes', 'storage_limit_minutes']])
        self.assertEqual((figures['storage_plan'], figures['storage_used_minutes'], figures['storage_limit_minutes']),
                         ('50k', 0.0, 50_000))
        usage = call('get_storage_usage', [[account.id]])
        self.assertEqual((usage['limit_minutes'], len(usage['series'])), (50_000, 12))
        with self.assertRaises(xmlrpc.client.Fault) as refused:
            call('set_storage_plan', [[account.id], '1m'])  # 75 - 25 paid = 50 > 35 left
        self.assertIn("This plan costs 50.00 credits now", refused.exception.faultString)


@tagged('post_install', '-at_install')
class TestRetention(RecordingFixtures, TelephonyCase):

    def setUp(self):
        super().setUp()
        CountingGateway.fetched, CountingGateway.deleted, CountingGateway.failing = [], [], False
        gateway_patch = patch.object(type(self.account), '_get_gateway', lambda account: CountingGateway('AC', 'x'))
        gateway_patch.start()
        self.addCleanup(gateway_patch.stop)
        self.Recording = self.env['telephony.recording']

    def run_retention(self):
        return self.Recording._cron_apply_retention()

    def test_three_and_six_months_boundaries(self):
        with freeze_time('2026-01-15 10:00:00'):
            recording = self._recording(60)
        attachment = recording.attachment_id
        self.account.recording_retention = '3m'
        with freeze_time('2026-04-15 09:59:00'):
            self.assertEqual(self.run_retention(), 0)
        self.assertEqual(recording.state, 'stored')
        with freeze_time('2026-04-15 10:01:00'):
            self.assertEqual(self.run_retention(), 1)
        self.assertEqual((recording.state, recording.attachment_id), ('deleted', self.env['ir.attachment']))
        self.assertFalse(attachment.exists(), "the audio itself is gone")

        with freeze_time('2026-01-15 10:00:00'):
            kept = self._recording(60)
        self.account.recording_retention = '6m'
        with freeze_time('2026-07-15 09:59:00'):
            self.run_retention()
        self.assertEqual(kept.state, 'stored')
        with freeze_time('2026-07-15 10:01:00'):
            self.run_retention()
        self.assertEqual(kept.state, 'deleted')

    def test_never(self):
        with freeze_time('2020-01-01 10:00:00'):
            recording = self._recording(60)
        self.assertEqual(self.account.recording_retention, 'never')
        self.assertEqual(self.run_retention(), 0)
        self.assertEqual(recording.state, 'stored')

    def test_expired_before_download_is_deleted_at_the_provider(self):
        with freeze_time('2026-01-01 10:00:00'):
            pending = self._recording(60, state='pending')
        self.account.recording_retention = '3m'
        with freeze_time('2026-06-01 10:00:00'):
            self.run_retention()
            self.Recording._cron_download_recordings()
        self.assertEqual((pending.state, pending.provider_deleted), ('deleted', True))
        self.assertEqual(CountingGateway.deleted, [pending.provider_sid])
        self.assertEqual(CountingGateway.fetched, [], "an expired recording is not downloaded")

    def test_batches_report_progress_and_resume(self):
        with freeze_time('2026-01-01 10:00:00'):
            recordings = self.Recording.browse([self._recording(60).id for _index in range(5)])
        self.account.recording_retention = '3m'
        cron = self.env.ref('builtin_telephony.ir_cron_telephony_recording_retention')
        reported = []
        # One batch of 2 per run (the time budget is spent at once): each run is what a killed
        # server leaves behind, and the next one goes on from there.
        with patch.object(telephony_recording, 'RETENTION_BATCH', 2), \
                patch.object(telephony_recording, 'CRON_TIME_BUDGET', 0), \
                freeze_time('2026-06-01 10:00:00'):
            for _run in range(4):
                _cron, progress = cron._add_progress()
                self.Recording.with_context(ir_cron_progress_id=progress.id)._cron_apply_retention()
                reported.append((progress.done, progress.remaining))
        self.assertEqual(reported, [(2, 3), (2, 1), (1, 0), (0, 0)])
        self.assertEqual(set(recordings.mapped('state')), {'deleted'})
        self.assertFalse(recordings.attachment_id.exists())

    def test_freed_space_rearms_the_full_notice(self):
        with freeze_time('2026-01-01 10:00:00'):
            self._recording(60_000)
        self.account.storage_full_notified = True
        self.account.recording_retention = '3m'
        with freeze_time('2026-06-01 10:00:00'):
            self.run_retention()
        self.assertFalse(self.account.storage_full_notified)
