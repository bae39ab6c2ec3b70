"""Tours of the call history, recordings and storage in headless Chromium (requirements H1, H2, R1, R2, R5)."""
from freezegun import freeze_time

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import USER_GROUPS
from .test_recordings import AUDIO
from .twilio_driver import new_sid


@tagged('post_install', '-at_install')
class TestCallHistoryTours(HttpCase):

    def setUp(self):
        super().setUp()
        self.company = self.env.ref('base.main_company')
        self.account = self.env['telephony.account']._get_for_company(self.company)
        self.account.provider = 'sandbox'
        self.env.ref('base.user_admin').groups_id |= self.env.ref('builtin_telephony.group_telephony_admin')
        self.seller = new_test_user(self.env, 'sam_seller', groups=USER_GROUPS, name="Sam Seller")
        self.env['telephony.user'].create({'user_id': self.seller.id, 'company_id': self.company.id})
        self.env['telephony.call'].search([]).unlink()

    def _call(self, direction, status, user, start):
        return self.env['telephony.call'].create({
            'provider_sid': new_sid('CA'), 'direction': direction, 'status': status,
            'company_id': self.company.id, 'user_id': user.id if user else False,
            'from_number': '+14155550100', 'to_number': '+14155550199', 'start_date': start,
            'duration': 0 if status == 'missed' else 95,
        })

    def test_call_history_filters_download_and_playback(self):
        now = fields.Datetime.now()
        self._call('inbound', 'completed', self.env.ref('base.user_admin'), now)
        self._call('inbound', 'missed', False, now)
        call = self._call('outbound', 'completed', self.seller, now)
        recording = self.env['telephony.recording'].create({
            'call_id': call.id, 'provider_sid': new_sid('RE'), 'duration': 1, 'provider_deleted': True})
        attachment = self.env['ir.attachment'].create({
            'name': 'call.wav', 'raw': AUDIO, 'mimetype': 'audio/wav',
            'res_model': 'telephony.recording', 'res_id': recording.id})
        recording.write({'state': 'stored', 'attachment_id': attachment.id})
        self.start_tour('/odoo', 'builtin_telephony_call_history', login='admin')

    def test_storage_section_and_plan_change(self):
        self.account.add_credits(80, 'tour-storage')
        call = self._call('inbound', 'completed', self.seller, fields.Datetime.now())
        self.env['telephony.recording'].create({
            'call_id': call.id, 'provider_sid': new_sid('RE'), 'duration': 1800, 'state': 'stored',
            'provider_deleted': True})
        self.start_tour('/odoo', 'builtin_telephony_storage_plan', login='admin')
        self.assertEqual((self.account.storage_plan, self.account.recording_retention), ('200k', '6m'))
        self.assertAlmostEqual(self.account.balance, 30.0)
