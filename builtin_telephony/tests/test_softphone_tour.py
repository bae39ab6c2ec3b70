"""The softphone in headless Chromium on the sandbox (SPEC C1–C5): click to call from a lead,
an incoming call ringing with the caller's lead, a missed call leaving a call-back. Every call
goes through the signed webhooks, the server playing Twilio's part for the sandbox device."""
import json

from odoo.tests import HttpCase, tagged


@tagged('post_install', '-at_install')
class TestSoftphoneTour(HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.ref('base.main_company')
        cls.account = cls.env['telephony.account']._get_for_company(cls.company)
        cls.account.write({'provider': 'sandbox', 'webhook_base_url': cls.base_url()})
        cls.account.add_credits(100, 'test-softphone-tour')
        cls.admin = cls.env.ref('base.user_admin')
        cls.admin.groups_id = [(4, cls.env.ref('builtin_telephony.group_telephony_admin').id)]
        cls.number = cls.env['telephony.number'].create({
            'account_id': cls.account.id, 'phone_number': '+14155550100',
            'country_id': cls.env.ref('base.us').id, 'number_type': 'local',
            'provider_sid': 'PN' + '14155550100'.zfill(32)})
        cls.telephony_user = cls.env['telephony.user'].create({
            'user_id': cls.admin.id, 'company_id': cls.company.id,
            'caller_id_number_ids': [(6, 0, cls.number.ids)]})
        flow = cls.env['telephony.flow'].create({
            'name': 'Sales line', 'company_id': cls.company.id,
            'number_ids': [(6, 0, cls.number.ids)],
            'definition': json.dumps({'start': 'sales', 'states': {
                'sales': {'type': 'transfer_user', 'name': 'Sales', 'user_id': cls.telephony_user.id,
                          'ring_timeout': 30, 'queue': {'enabled': False},
                          'next': {'timeout': 'vm', 'unavailable': 'vm', 'busy': 'vm'}},
                'vm': {'type': 'voicemail', 'name': 'Voicemail',
                       'message': {'kind': 'text', 'text': 'Leave a message.'},
                       'timeout': 5, 'max_length': 60, 'next': {}},
            }})})
        flow.action_publish()
        cls.lead = cls.env['crm.lead'].create({
            'name': 'Quote for Dana', 'phone': '+1 212-555-0142', 'user_id': cls.admin.id,
            'type': 'opportunity'})

    def calls(self):
        return self.env['telephony.call'].search([('lead_id', '=', self.lead.id)])

    def test_click_to_call_from_a_lead(self):
        self.start_tour(f'/odoo/crm/{self.lead.id}', 'builtin_telephony_click_to_call', login='admin')
        call = self.calls()
        self.assertEqual((call.direction, call.status, call.user_id), ('outbound', 'completed', self.admin))
        self.assertEqual((call.from_number, call.to_number), ('+14155550100', '+12125550142'))
        self.assertEqual(self.telephony_user.availability, 'available', "signed in by the call")
        self.assertEqual(self.lead.telephony_call_count, 1)

    def test_incoming_call_rings_with_the_lead_then_is_answered(self):
        self.telephony_user.availability = 'available'
        self.start_tour('/odoo', 'builtin_telephony_incoming_call', login='admin')
        call = self.calls()
        self.assertEqual((call.direction, call.status, call.user_id), ('inbound', 'completed', self.admin))
        self.assertIn('Incoming call from +12125550142', self.lead.message_ids[0].body)

    def test_missed_call_leaves_a_call_back(self):
        self.telephony_user.availability = 'available'
        self.start_tour('/odoo', 'builtin_telephony_missed_call', login='admin')
        call = self.calls()
        self.assertEqual((call.direction, call.status), ('inbound', 'voicemail'))
        self.assertEqual(self.lead.activity_ids.activity_type_id,
                         self.env.ref('builtin_telephony.mail_activity_type_call_back'))
