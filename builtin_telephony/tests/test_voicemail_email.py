"""Voicemail to e-mail, with transcription (B4), through calls driven by tests/twilio_driver.py:
the e-mail to an address, the owner or the group, the transcription callback (signed,
idempotent) stored on the call, in the e-mail and on the matched lead's chatter; the sandbox's
transcription."""
import json
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from ..models.telephony_call import TRANSCRIPTION_LOOK_BACK, TRANSCRIPTION_WAIT
from ..models.telephony_sandbox_call import SANDBOX_TRANSCRIPTION
from ..tools.flow import validation
from .common import CALLER, DriverCase
SPOKEN = "Hello, it's Carla. Please call me back about the quote."


@tagged('post_install', '-at_install')
class TestVoicemailEmail(DriverCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._publish_line('test-voicemail-email', cls.voicemail_definition(email_to='sales@example.com'))
        (cls.alice | cls.bob).user_id.write({'email': 'agents@example.com'})
        cls.lead = cls.env['crm.lead'].create({'name': 'Carla wants a quote', 'phone': CALLER})

    @classmethod
    def voicemail_definition(cls, email_to, transcribe=True):
        definition = cls.definition()
        definition['states']['vm'].update({'email_to': email_to, 'transcribe': transcribe})
        return definition

    def publish(self, **settings):
        self.flow.definition = json.dumps(self.voicemail_definition(**settings))
        self.flow.action_publish()

    def mails(self, record):
        return self.env['mail.mail'].search([('model', '=', 'telephony.call'),
                                             ('res_id', '=', record.id)])

    def leave_voicemail(self, key='*', transcription=SPOKEN):
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        call.press(key)
        record = call.waiting[1]
        self.assertEqual(record.tag, 'Record')
        call.leave_message(12, transcription=transcription)
        self.assertFalse(self.mails(self.record(call)), "not before the audio is kept")
        self.env['telephony.recording']._cron_download_recordings()
        return call, record

    def test_transcribed_voicemail_emailed_to_an_address(self):
        call, record_verb = self.leave_voicemail()
        self.assertEqual(record_verb.get('transcribe'), 'true')
        self.assertEqual(record_verb.get('transcribeCallback'),
                         self.base_url() + '/telephony/twilio/transcription')
        record = self.record(call)
        self.assertEqual((record.status, record.transcription), ('voicemail', SPOKEN))
        mail = self.mails(record)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.email_to, 'sales@example.com')
        recording = record.recording_ids
        self.assertEqual((recording.kind, recording.state), ('voicemail', 'stored'))
        self.assertEqual(len(mail.attachment_ids), 1)
        self.assertEqual(mail.attachment_ids.raw, recording.attachment_id.raw)
        self.assertEqual(mail.attachment_ids.mimetype, 'audio/wav')
        self.assertEqual(mail.subject, 'Voicemail from Carla wants a quote (%s)' % CALLER)
        body = str(mail.body_html)
        for fragment in (CALLER, 'Carla wants a quote', SPOKEN.replace("'", '&#39;'), '12 s',
                         'The recording is attached.'):
            self.assertIn(fragment, body)
        note = self.lead.message_ids.filtered(lambda message: 'transcribed' in str(message.body))
        self.assertEqual(len(note), 1)
        self.assertIn('Please call me back about the quote', str(note.body))
        # The form shows it.
        arch = self.env['telephony.call'].get_views([(False, 'form')])['views']['form']['arch']
        self.assertIn('name="transcription"', arch)

    def test_transcription_callback_is_signed_and_idempotent(self):
        call, _record_verb = self.leave_voicemail()
        record = self.record(call)
        url = self.base_url() + '/telephony/twilio/transcription'
        # Twilio retries the same callback: nothing changes, nothing is sent twice.
        self.driver.callback(url, call.transcription_params)
        self.driver.callback(url, dict(call.transcription_params, TranscriptionSid='TR' + 'f' * 32,
                                       TranscriptionText='Something else'))
        record.invalidate_recordset()
        self.assertEqual(record.transcription, SPOKEN)
        self.assertEqual(len(self.mails(record)), 1)
        self.assertEqual(len(self.lead.message_ids.filtered(
            lambda message: 'transcribed' in str(message.body))), 1)
        # A forged one is refused and writes nothing.
        forged = self.driver.post(url, dict(call.transcription_params, TranscriptionText='Forged'),
                                  signature='forged')
        self.assertEqual(forged.status_code, 403)
        record.invalidate_recordset()
        self.assertEqual(record.transcription, SPOKEN)

    def test_the_email_waits_for_the_transcription(self):
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        call.press('*')
        original = self.driver.callback
        held = []

        def callback(url, params):
            if url.endswith('/transcription'):
                held.append((url, params))  # Twilio takes its time to transcribe
                return None
            return original(url, params)
        with patch.object(self.driver, 'callback', callback):
            call.leave_message(12, transcription=SPOKEN)
        self.env['telephony.recording']._cron_download_recordings()
        record = self.record(call)
        self.assertEqual(record.recording_ids.state, 'stored')
        self.assertFalse(self.mails(record), "not before the transcription")
        original(*held[0])
        self.assertEqual(len(self.mails(record)), 1)

    def test_a_transcription_that_never_comes(self):
        """Twilio may never call back with the transcription: the e-mail goes without it once
        it is late, and the transcription still reaches the chatter if it comes after."""
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        call.press('*')
        original, held = self.driver.callback, []

        def callback(url, params):
            if url.endswith('/transcription'):
                held.append((url, params))
                return None
            return original(url, params)
        with patch.object(self.driver, 'callback', callback):
            call.leave_message(12, transcription=SPOKEN)
        self.env['telephony.recording']._cron_download_recordings()
        record = self.record(call)
        Call = self.env['telephony.call']
        self.assertEqual(Call._cron_send_late_voicemails(), 0)
        self.assertFalse(self.mails(record), "still within the wait")
        later = fields.Datetime.now() + TRANSCRIPTION_WAIT + timedelta(minutes=1)
        with freeze_time(later):
            self.assertEqual(Call._cron_send_late_voicemails(), 1)
            self.assertEqual(Call._cron_send_late_voicemails(), 0, "once")
        mail = self.mails(record)
        self.assertEqual(len(mail), 1)
        self.assertIn('The transcription did not arrive in time', str(mail.body_html))
        self.assertEqual(len(mail.attachment_ids), 1, "the audio is there")
        # It comes after all: kept and on the lead, not e-mailed again.
        original(*held[0])
        record.invalidate_recordset()
        self.assertEqual(record.transcription, SPOKEN)
        self.assertEqual(len(self.mails(record)), 1)
        self.assertTrue(self.lead.message_ids.filtered(lambda message: 'transcribed' in str(message.body)))
        # Past the look-back, a voicemail is no longer sent.
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        call.press('*')
        with patch.object(self.driver, 'callback', callback):
            call.leave_message(5, transcription=SPOKEN)
        self.env['telephony.recording']._cron_download_recordings()
        with freeze_time(fields.Datetime.now() + TRANSCRIPTION_LOOK_BACK + timedelta(minutes=1)):
            self.assertEqual(Call._cron_send_late_voicemails(), 0)
        self.assertFalse(self.mails(self.record(call)))

    def test_a_large_recording_is_linked_not_attached(self):
        with patch('odoo.addons.builtin_telephony.models.telephony_call.'
                   'VOICEMAIL_ATTACHMENT_MAX_BYTES', 10):
            call, _record_verb = self.leave_voicemail()
        record = self.record(call)
        mail = self.mails(record)
        self.assertFalse(mail.attachment_ids)
        self.assertIn('%s/telephony/recording/%s' % (self.base_url(), record.recording_ids.id),
                      str(mail.body_html))
        # The link is the access-checked route: a user who may not read the call gets nothing.
        self.authenticate('telephony_salesman', 'telephony_salesman')
        response = self.url_open('/telephony/recording/%s' % record.recording_ids.id)
        self.assertIn(response.status_code, (403, 404))

    def test_failed_transcription_still_emails(self):
        call, _record_verb = self.leave_voicemail(transcription=None)
        record = self.record(call)
        self.assertFalse(record.transcription)
        self.assertIn('could not be transcribed', str(self.mails(record).body_html))

    def test_owner_and_group(self):
        # Sales (Alice) is offline: the call goes to voicemail; Alice is who it was for.
        self.alice.availability = 'offline'
        self.bob.availability = 'offline'
        self.publish(email_to='owner', transcribe=False)
        call, record_verb = self.leave_voicemail(key='1')
        self.assertFalse(record_verb.get('transcribe'))
        mail = self.mails(self.record(call))
        self.assertEqual(mail.recipient_ids, self.alice.user_id.partner_id)
        # Team (Alice, Bob) is offline: both members.
        self.publish(email_to='group', transcribe=False)
        call, _record_verb = self.leave_voicemail(key='3')
        self.assertEqual(self.mails(self.record(call)).recipient_ids,
                         (self.alice | self.bob).user_id.partner_id)
        # Straight to voicemail, nobody it was for: the administrators.
        call, _record_verb = self.leave_voicemail(key='*')
        self.assertEqual(self.mails(self.record(call)).recipient_ids,
                         self.account._telephony_admins().partner_id)
        self.assertIn(self.telephony_admin.partner_id, self.mails(self.record(call)).recipient_ids)

    def test_no_email_unless_asked(self):
        self.publish(email_to=False, transcribe=False)
        call, _record_verb = self.leave_voicemail()
        self.assertFalse(self.mails(self.record(call)))

    def test_validation(self):
        definition = self.voicemail_definition(email_to='not an address', transcribe='yes')
        problems = validation.validate_definition(definition)
        self.assertEqual(len(problems), 2, problems)
        self.assertIn('the transcription must be true or false', problems[0])
        self.assertIn('"owner" (the user the call was for), "group"', problems[1])

    def test_sandbox_transcribes(self):
        sandbox_call = self.env['telephony.sandbox.call']._simulate_incoming(
            self.number, CALLER, keys='*')
        record = self.env['telephony.call'].search([('provider_sid', '=', sandbox_call.call_sid)])
        self.assertEqual(record.status, 'voicemail')
        self.assertEqual(record.transcription, SANDBOX_TRANSCRIPTION)
        self.env['telephony.recording']._cron_download_recordings()
        self.assertEqual(len(self.mails(record)), 1)
