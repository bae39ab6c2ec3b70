"""Every call on the CRM record (SPEC C1–C3): click to call tied to its record, who is calling
(the <Client> parameters, the bus), notes on the chatter, the Calls smart buttons, call-back
activities and who sees which call. Calls are driven through the signed webhooks by
tests/twilio_driver.py, as Twilio would drive them."""
import json

from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import CALLER, DriverCase
SALES = 'base.group_user,sales_team.group_sale_salesman,builtin_telephony.group_telephony_user'


@tagged('post_install', '-at_install')
class TestSoftphoneCrm(DriverCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._publish_line('test-softphone-crm')
        # Alice and Bob sell: each sees their own leads only (sales_team's "own documents").
        for telephony_user in (cls.alice, cls.bob):
            telephony_user.user_id.groups_id = [(4, cls.env.ref('sales_team.group_sale_salesman').id)]
        (cls.alice | cls.bob | cls.carol).write({'availability': 'available'})
        cls.alice.caller_id_number_ids = cls.number
        cls.contact = cls.env['res.partner'].create({'name': 'Carla Caller', 'phone': CALLER})
        cls.lead = cls.env['crm.lead'].create({
            'name': 'Carla wants a quote', 'phone': CALLER, 'partner_id': cls.contact.id,
            'user_id': cls.alice.user_id.id, 'type': 'opportunity'})

    def call_in(self, from_number=CALLER, key='1'):
        call = self.driver.incoming_call(from_number, self.number.phone_number)
        call.press(key)
        return call

    def notes(self, record):
        return record.message_ids.filtered(lambda m: m.message_type == 'comment').mapped('body')

    # -- Click to call (C1) --------------------------------------------------------------------

    def test_click_to_call_ties_the_call_to_its_record(self):
        other = self.env['crm.lead'].create({'name': 'Other deal', 'phone': '+12125550142',
                                             'user_id': self.alice.user_id.id})
        # Placed from the lead's form, to the contact's other number: tied to the lead all the same.
        call = self.driver.outgoing_call(self.alice.client_identity, '+12125550199',
                                         ResModel='crm.lead', ResId=str(self.lead.id))
        record = self.record(call)
        self.assertEqual((record.lead_id, record.partner_id), (self.lead, self.contact))
        # From a contact's form.
        call = self.driver.outgoing_call(self.alice.client_identity, '+12125550199',
                                         ResModel='res.partner', ResId=str(self.contact.id))
        self.assertEqual((self.record(call).partner_id, self.record(call).lead_id),
                         (self.contact, self.env['crm.lead']))
        # A record the caller may not read, or not a CRM record: the number is matched instead.
        bobs_lead = self.env['crm.lead'].create({'name': "Bob's", 'user_id': self.bob.user_id.id})
        for model, res_id in (('crm.lead', bobs_lead.id), ('res.users', self.bob.user_id.id),
                              ('crm.lead', 'x')):
            call = self.driver.outgoing_call(self.alice.client_identity, '+12125550142',
                                             ResModel=model, ResId=str(res_id))
            self.assertEqual(self.record(call).lead_id, other, model)
        # The server still decides: a refused destination is refused from a record too.
        call = self.driver.outgoing_call(self.alice.client_identity, '+8613800138000',
                                         ResModel='crm.lead', ResId=str(self.lead.id))
        self.assertEqual(self.record(call).status, 'failed')

    # -- Who is calling (C2) -------------------------------------------------------------------

    def test_client_parameters_and_bus_notification_say_who_is_calling(self):
        self.env['bus.bus'].sudo().search([]).unlink()
        call = self.call_in()
        record = self.record(call)
        client = call.waiting[1].find('Client')
        self.assertEqual(client.findtext('Identity'), self.alice.client_identity)
        parameters = {param.get('name'): param.get('value') for param in client.findall('Parameter')}
        self.assertEqual(parameters, {
            'call_id': str(record.id), 'caller_name': 'Carla Caller',
            'caller_number': record.from_number_display,
            'partner_id': str(self.contact.id), 'lead_id': str(self.lead.id)})
        self.assertNotEqual(record.from_number_display, record.from_number, "formatted for reading")
        self.assertEqual(record.rung_user_ids, self.alice.user_id)
        notifications = self.env['bus.bus'].sudo().search([]).filtered(
            lambda n: 'builtin_telephony/ringing' in n.message)
        self.assertEqual(len(notifications), 1)
        self.assertEqual(json.loads(notifications.channel)[1:],
                         ['res.partner', self.alice.user_id.partner_id.id])
        self.assertIn('Carla Caller', notifications.message)

    def test_unknown_caller_has_no_record_parameters(self):
        call = self.call_in('+14155550123')
        parameters = {param.get('name'): param.get('value')
                      for param in call.waiting[1].find('Client').findall('Parameter')}
        self.assertEqual((parameters['partner_id'], parameters['lead_id'], parameters['caller_name']),
                         ('0', '0', ''))

    def test_lead_matched_on_mobile_most_recent_open_first(self):
        self.lead.phone = False
        self.lead.mobile = CALLER
        newer = self.env['crm.lead'].create({'name': 'Newer', 'mobile': '+1 415 555 0199'})
        call = self.call_in()
        self.assertEqual(self.record(call).lead_id, newer)

    # -- On the CRM record (C3) ----------------------------------------------------------------

    def test_answered_call_noted_on_lead_and_contact_and_counted(self):
        call = self.call_in()
        call.answer_and_talk(self.alice.client_identity, seconds=150)
        for record in (self.lead, self.contact):
            notes = self.notes(record)
            self.assertEqual(len(notes), 1, record)
            self.assertIn('Incoming call from +14155550199', notes[0])
            self.assertIn('Alice Agent', notes[0])
            self.assertIn('2 min', notes[0])
        outgoing = self.driver.outgoing_call(self.alice.client_identity, CALLER)
        outgoing.callee_answers(30)
        self.assertIn('Outgoing call to +14155550199', self.notes(self.lead)[0])
        alice_env = self.env(user=self.alice.user_id)
        self.assertEqual(alice_env['crm.lead'].browse(self.lead.id).telephony_call_count, 2)
        self.assertEqual(alice_env['res.partner'].browse(self.contact.id).telephony_call_count, 2)
        # Bob sees none of Alice's calls; a user without telephony sees no count and no error.
        self.assertEqual(self.env(user=self.bob.user_id)['res.partner'].browse(
            self.contact.id).telephony_call_count, 0)
        plain = new_test_user(self.env, 'plain', groups='base.group_user')
        self.assertEqual(self.env(user=plain)['res.partner'].browse(
            self.contact.id).telephony_call_count, 0)
        action = alice_env['crm.lead'].browse(self.lead.id).action_view_telephony_calls()
        self.assertEqual(alice_env['telephony.call'].search(action['domain']), self.record(call) | self.record(outgoing))

    def test_call_count_through_xmlrpc(self):
        self.call_in().answer_and_talk(self.alice.client_identity, seconds=10)
        alice_uid = self.alice.user_id.id
        values = self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, alice_uid, 'alicexxx', 'crm.lead', 'read',
            [[self.lead.id], ['telephony_call_count']])
        self.assertEqual(values[0]['telephony_call_count'], 1)
        action = self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, alice_uid, 'alicexxx', 'crm.lead', 'action_view_telephony_calls',
            [[self.lead.id]])
        self.assertEqual(action['res_model'], 'telephony.call')

    def test_missed_calls_leave_one_call_back_for_the_salesperson(self):
        activity_type = self.env.ref('builtin_telephony.mail_activity_type_call_back')
        for _attempt in range(2):
            call = self.call_in()
            call.no_answer()
            call.stay_silent()
            self.assertEqual(self.record(call).status, 'missed')
        activities = self.lead.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        self.assertEqual(len(activities), 1, "one open call-back per caller and record")
        self.assertEqual(activities.user_id, self.alice.user_id, "the lead's salesperson")
        self.assertIn(CALLER, activities.summary)
        self.assertEqual(len(self.notes(self.lead)), 2, "each missed call is noted")
        # Alice's "assigned to you" e-mail waits in Odoo's mail queue, whose cron is triggered:
        # no SMTP session in the status callback, which Twilio waits for.
        mails = self.env['mail.mail'].search([
            ('model', '=', 'crm.lead'), ('res_id', '=', self.lead.id),
            ('recipient_ids', 'in', self.alice.user_id.partner_id.ids),
            ('subject', 'like', activities.summary)])
        self.assertEqual(mails.mapped('state'), ['outgoing'])
        self.assertTrue(self.env['ir.cron.trigger'].search_count([
            ('cron_id', '=', self.env.ref('mail.ir_cron_mail_scheduler_action').id)]))
        # Done, then missed again: a new one.
        activities.action_done()
        call = self.call_in()
        call.no_answer()
        call.leave_message(10)
        self.assertEqual(self.record(call).status, 'voicemail')
        self.assertEqual(len(self.lead.activity_ids.filtered(
            lambda a: a.activity_type_id == activity_type)), 1)

    def test_call_back_without_lead_goes_to_the_contact_or_the_call(self):
        activity_type = self.env.ref('builtin_telephony.mail_activity_type_call_back')
        self.lead.action_set_won()
        call = self.call_in()
        call.no_answer()
        call.stay_silent()
        activity = self.contact.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        self.assertEqual(activity.user_id, self.alice.user_id, "the user the flow rang")
        call = self.call_in('+14155550123')
        call.no_answer()
        call.leave_message(5)
        record = self.record(call)
        self.assertEqual(record.activity_ids.activity_type_id, activity_type)
        self.assertEqual(record.activity_ids.user_id, self.alice.user_id)

    def test_missed_calls_visible_to_the_users_the_flow_rang(self):
        # The team (Alice, Bob) is rung in parallel; nobody answers; a voicemail is left.
        call = self.call_in(key='3')
        self.assertEqual(sorted(call.ringing()), sorted([self.alice.client_identity, self.bob.client_identity]))
        call.no_answer()
        call.leave_message(8)
        record = self.record(call)
        Call = self.env['telephony.call']
        for telephony_user, sees in ((self.alice, True), (self.bob, True), (self.carol, False)):
            self.assertEqual(bool(Call.with_user(telephony_user.user_id).search([('id', '=', record.id)])),
                             sees, telephony_user.name)
        self.assertTrue(record.recording_ids.with_user(self.bob.user_id).read(['duration']))
        # An answered call is its owner's only.
        answered = self.call_in(key='3')
        answered.answer_and_talk(self.alice.client_identity, 20)
        self.assertFalse(Call.with_user(self.bob.user_id).search([('id', '=', self.record(answered).id)]))

    def test_plain_name_when_the_lead_is_not_readable(self):
        call = self.call_in(key='3')
        call.answer_and_talk(self.bob.client_identity, 20)
        record = self.record(call).with_user(self.bob.user_id)
        self.assertEqual(record.lead_id.id, self.lead.id)
        self.assertFalse(record.can_read_lead, "Alice's lead")
        self.assertEqual(record.lead_name, 'Carla wants a quote')
        self.assertTrue(record.can_read_partner)
        recent = self.bob.with_user(self.bob.user_id)._softphone_recent_calls()
        self.assertEqual(recent[0]['lead_id'], False)
        self.assertEqual(recent[0]['name'], 'Carla Caller')

    def test_note_on_the_call_reaches_the_lead(self):
        call = self.call_in()
        call.answer_and_talk(self.alice.client_identity, 20)
        record = self.record(call).with_user(self.alice.user_id)
        record.message_post(body="Wants 20 desks by March", message_type='comment',
                            subtype_xmlid='mail.mt_note')
        notes = self.notes(self.lead)
        self.assertIn('Wants 20 desks by March', notes[0])
        self.assertEqual(self.lead.message_ids[0].author_id, self.alice.user_id.partner_id)

    def test_note_from_the_softphone(self):
        call = self.call_in()
        call.answer_and_talk(self.alice.client_identity, 20)
        record = self.record(call)
        self.authenticate('alice', 'alice')
        self.assertEqual(self.make_jsonrpc_request('/telephony/softphone/note', {
            'call_sid': call.sid, 'body': 'Call back <b>Monday</b>'}), record.id)
        self.assertIn('Call back &lt;b&gt;Monday&lt;/b&gt;', record.message_ids[0].body)
        self.assertIn('Call back &lt;b&gt;Monday&lt;/b&gt;', self.notes(self.lead)[0])
        # Not on someone else's call.
        self.authenticate('carol', 'carol')
        with self.assertRaises(Exception), mute_logger('odoo.http'):
            self.make_jsonrpc_request('/telephony/softphone/note', {'call_id': record.id, 'body': 'x'})
