"""Calls that must not cost, leak or break (issue 9): through the signed webhooks, as Twilio
drives them (tests/twilio_driver.py)."""
import json
import time
import xml.etree.ElementTree as ET
from datetime import timedelta
from unittest.mock import Mock, patch

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import file_open, mute_logger

from ..tools.provider_errors import NO_ANSWER, TelephonyProviderError
from .common import CALLER, DriverCase, FlowCase
from .twilio_driver import TwilioDriver


class WebhookCase(DriverCase):
    # The sandbox's gateway, unless a test patches the methods it expects.
    patch_gateway = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._publish_line('test-hardening-calls')
        (cls.alice | cls.bob | cls.carol).write({'availability': 'available'})
        cls.alice.write({'caller_id_number_ids': [(6, 0, cls.number.ids)]})


@tagged('post_install', '-at_install')
class TestPeopleAndFlowsThatGo(WebhookCase):
    """Item 14: a deactivated user, a deleted flow."""

    def test_a_deactivated_user_no_longer_calls_out_nor_is_rung(self):
        self.alice.user_id.active = False
        call = self.driver.outgoing_call(self.alice.client_identity, '+12125550142')
        self.assertTrue(call.ended)
        self.assertEqual(self.record(call).status, 'failed')
        self.assertEqual(self.alice._get_routing_states()[self.alice.id], 'offline')

    def test_a_flow_running_calls_cannot_be_deleted(self):
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        self.assertEqual(call.waiting[0], 'gather')
        flow = self.flow.with_user(self.telephony_admin)
        with self.assertRaisesRegex(UserError, 'disable it instead'):
            flow.unlink()
        call.press('2')  # the call goes on, on the version it started with
        self.assertEqual(call.waiting[0], 'dial')
        call.hang_up()
        flow.unlink()  # once the calls have ended


@tagged('post_install', '-at_install')
class TestReadOnlyFlowFields(FlowCase):
    """Item 12: what only publication sets cannot be written, over RPC or otherwise."""

    def test_published_version_and_state_are_set_by_publication_only(self):
        flow = self._flow()
        as_admin = flow.with_user(self.telephony_admin)
        other = self._flow()
        other.action_publish()
        for vals in ({'published_definition': json.dumps(self.definition())}, {'state': 'published'},
                     {'published_version_id': other.published_version_id.id}):
            with self.subTest(vals=list(vals)), self.assertRaises(AccessError):
                as_admin.write(vals)
        as_admin.action_publish()
        self.assertEqual(flow.state, 'published')


@tagged('post_install', '-at_install')
class TestDemoSigningKey(FlowCase):
    """Item 14: the demo database signs its simulated calls with a key of its own."""

    def test_the_demo_data_sets_no_signing_key(self):
        with file_open('builtin_telephony/demo/telephony_demo.xml') as demo:
            root = ET.fromstring(demo.read().encode())
        fixed = root.findall(".//record[@model='telephony.account']/field[@name='twilio_auth_token']")
        self.assertFalse(fixed, "every database must get a random signing key")
        keys = {self.env['telephony.account']._fields['twilio_auth_token'].default(self.env['telephony.account'])
                for _index in range(3)}
        self.assertEqual(len(keys), 3)
        self.assertTrue(all(len(key) >= 32 for key in keys))


@tagged('post_install', '-at_install')
class TestTwoCompaniesOnOneTwilioAccount(WebhookCase):
    """Item 4: a webhook goes to the account that owns the called number (or the call)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env['res.company'].create({'name': "Second Co", 'country_id': cls.env.ref('base.us').id})
        cls.account_b = cls.env['telephony.account']._get_for_company(cls.company_b)
        cls.account_b.write({'provider': 'sandbox', 'webhook_base_url': cls.base_url()})
        cls.account_b.add_credits(50, 'test-company-b')
        cls.number_b = cls.env['telephony.number'].create({
            'account_id': cls.account_b.id, 'phone_number': '+14155550200',
            'country_id': cls.env.ref('base.us').id, 'number_type': 'local',
            'provider_sid': 'PN' + '14155550200'.zfill(32)})
        cls.flow_b = cls.env['telephony.flow'].create({
            'name': "Second line", 'company_id': cls.company_b.id,
            'number_ids': [(6, 0, cls.number_b.ids)],
            'definition': json.dumps({'start': 'hi', 'states': {'hi': {
                'type': 'announce', 'message': {'kind': 'text', 'text': "Welcome to Second Co"},
                'next': {}}}})})
        cls.flow_b.action_publish()

    def test_two_companies_share_one_twilio_account(self):
        # One Twilio account (one SID, one auth token) for both companies: the usual set-up.
        self.account_b.sudo().write({'twilio_account_sid': self.account.sudo().twilio_account_sid,
                                     'twilio_auth_token': self.account.sudo().twilio_auth_token})
        call_b = TwilioDriver(self, self.account_b).incoming_call(CALLER, self.number_b.phone_number)
        self.assertEqual(call_b.said[0], "Welcome to Second Co")
        self.assertEqual(self.record(call_b).company_id, self.company_b)
        call_a = self.driver.incoming_call(CALLER, self.number.phone_number)
        self.assertEqual(call_a.waiting[0], 'gather')
        self.assertEqual(self.record(call_a).company_id, self.company)
        call_a.hang_up()
        self.assertTrue(self.record(call_a).end_date)

    def test_a_softphone_of_the_second_company_calls_out_through_it(self):
        self.account_b.sudo().write({'twilio_account_sid': self.account.sudo().twilio_account_sid,
                                     'twilio_auth_token': self.account.sudo().twilio_auth_token})
        seller_b = self.env['telephony.user'].create({
            'user_id': self.alice.user_id.id, 'company_id': self.company_b.id,
            'caller_id_number_ids': [(6, 0, self.number_b.ids)]})
        # The destination is the first company's number: the caller decides, not the number.
        call = TwilioDriver(self, self.account_b).outgoing_call(seller_b.client_identity, self.number.phone_number)
        record = self.record(call)
        self.assertEqual((record.company_id, record.from_number, record.status),
                         (self.company_b, self.number_b.phone_number, 'ringing'))

    def test_a_copied_sid_does_not_block_the_other_companys_webhooks(self):
        # The first company's administrator copies the second company's SID (keeping its token).
        self.account.sudo().twilio_account_sid = self.account_b.sudo().twilio_account_sid
        call_b = TwilioDriver(self, self.account_b).incoming_call(CALLER, self.number_b.phone_number)
        self.assertEqual(call_b.said[0], "Welcome to Second Co")
        # ... and the copy signs nothing for the second company: its token is its own.
        forged = TwilioDriver(self, self.account)
        response = forged.post(self.account_b.voice_webhook_url, {
            'AccountSid': self.account_b.sudo().twilio_account_sid, 'CallSid': 'CA' + 'f' * 32,
            'From': CALLER, 'To': self.number_b.phone_number, 'CallStatus': 'ringing'})
        self.assertEqual(response.status_code, 403)


@tagged('post_install', '-at_install')
class TestWebhookFaults(WebhookCase):
    """Item 13: retries, ended calls and faults never become a second step, a queue or a 500."""

    def test_a_retried_flow_action_adds_no_step(self):
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        gather = call.waiting[1]
        params = call.params(Digits='*', FinishedOnKey='')
        first = self.driver.post(gather.get('action'), params)
        steps = len(self.record(call).step_ids)
        # Twilio retries the same Gather action (a timeout on its side): same answer, no new step.
        second = self.driver.post(gather.get('action'), params)
        self.assertEqual((second.status_code, second.text), (200, first.text))
        self.assertEqual(len(self.record(call).step_ids), steps)

    def test_a_flow_action_after_the_end_of_the_call_changes_nothing(self):
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        gather = call.waiting[1]
        call.hang_up()
        record = self.record(call)
        status, steps = record.status, len(record.step_ids)
        root = self.driver.twiml(gather.get('action'), call.params(Digits='1', FinishedOnKey=''))
        self.assertEqual([verb.tag for verb in root], ['Hangup'])
        record.invalidate_recordset()
        self.assertEqual((record.status, len(record.step_ids), record.queue_name), (status, steps, False))

    def test_an_account_with_an_empty_auth_token_answers_403(self):
        self.account.sudo().twilio_auth_token = False
        response = self.driver.post(self.account.voice_webhook_url, {
            'AccountSid': self.account.sudo().twilio_account_sid, 'CallSid': 'CA' + 'e' * 32,
            'From': CALLER, 'To': self.number.phone_number}, signature='anything')
        self.assertEqual(response.status_code, 403)

    def test_a_database_conflict_that_lasts_is_an_apology_in_time(self):
        Call = type(self.env['telephony.call'])

        def conflict(calls, *args, **kwargs):
            # What PostgreSQL raises when another worker updated the same rows.
            calls.env.cr.execute("DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' "
                                 "USING ERRCODE = 'serialization_failure'; END $$")
        start = time.monotonic()
        with patch.object(Call, '_twilio_answer', conflict), mute_logger('odoo.http', 'odoo.service.model',
                                                                         'odoo.addons.builtin_telephony'):
            response = self.driver.post(self.account.voice_webhook_url, {
                'AccountSid': self.account.sudo().twilio_account_sid, 'CallSid': 'CA' + 'd' * 32,
                'From': CALLER, 'To': self.number.phone_number})
        self.assertEqual(response.status_code, 200, "Twilio plays an error to the caller on a 500")
        self.assertIn('<Say', response.text)
        self.assertLess(time.monotonic() - start, 12, "Twilio gives up after 15 s")


@tagged('post_install', '-at_install')
class TestStableWebhookUrl(WebhookCase):
    """Item 5: the URL Twilio signs is the one stored and shown, whatever web.base.url becomes."""

    def test_web_base_url_changes_do_not_break_webhooks(self):
        company = self.env['res.company'].create({'name': "Third Co", 'country_id': self.env.ref('base.us').id})
        self.env['ir.config_parameter'].sudo().set_param('web.base.url', self.base_url())
        account = self.env['telephony.account']._get_for_company(company)
        self.assertEqual(account.sudo().webhook_base_url, self.base_url(), "stored and shown on the page")
        account.add_credits(10, 'test-third')
        number = self.env['telephony.number'].browse(account.buy_number('+14155550300', 'US', 'local'))
        # An administrator logs in from another address: Odoo rewrites web.base.url.
        self.env['ir.config_parameter'].sudo().set_param('web.base.url', 'http://10.0.0.7:8069')
        driver = TwilioDriver(self, account)
        url = self.base_url() + '/telephony/twilio/voice'  # what the number was given at purchase
        params = {'AccountSid': account.sudo().twilio_account_sid, 'CallSid': 'CA' + 'c' * 32,
                  'From': CALLER, 'To': number.phone_number, 'CallStatus': 'ringing'}
        self.assertEqual(driver.post(url, params).status_code, 200)

    def test_twilio_needs_https_and_the_page_says_what_is_wrong(self):
        company = self.env['res.company'].create({'name': "Fourth Co"})
        self.telephony_admin.company_ids |= company
        account = self.env['telephony.account']._get_for_company(company).with_user(self.telephony_admin)
        with self.assertRaises(ValidationError):
            account.write({'provider': 'twilio', 'webhook_base_url': 'http://crm.example.com'})
        account.write({'webhook_base_url': 'http://crm.example.com'})  # fine for the sandbox
        self.assertFalse(account.webhook_check)
        account.write({'provider': 'twilio', 'webhook_base_url': 'http://127.0.0.1:8069'})  # development
        self.assertIn('Twilio cannot reach 127.0.0.1', account.webhook_check)
        account.write({'webhook_base_url': 'https://crm.example.com'})
        self.assertFalse(account.webhook_check)

    def test_numbers_follow_a_new_url(self):
        updates = []
        gateway = type(self.account._get_gateway())
        original = gateway.update_number

        def update_number(gateway_self, sid, **kwargs):
            updates.append((sid, kwargs.get('voice_url'), kwargs.get('status_callback')))
            return original(gateway_self, sid, **kwargs)
        with patch.object(gateway, 'update_number', update_number):
            self.account.with_user(self.telephony_admin).webhook_base_url = 'https://new.example.com/'
        self.assertIn((self.number.provider_sid, 'https://new.example.com/telephony/twilio/voice',
                       'https://new.example.com/telephony/twilio/status'), updates)

    def test_the_softphone_twiml_app_follows_a_new_url(self):
        """Item 5: outgoing calls reach the TwiML App's voice URL, which must move with the
        numbers' (else every softphone call fails once the old address is gone)."""
        app_sid = 'AP' + 'd' * 32
        self.account.sudo().twilio_twiml_app_sid = app_sid
        updates = []
        gateway = type(self.account._get_gateway())
        original = gateway.update_twiml_app

        def update_twiml_app(gateway_self, sid, voice_url):
            updates.append((sid, voice_url))
            return original(gateway_self, sid, voice_url)
        with patch.object(gateway, 'update_twiml_app', update_twiml_app):
            self.account.with_user(self.telephony_admin).webhook_base_url = 'https://new.example.com/'
            self.assertEqual(updates, [(app_sid, 'https://new.example.com/telephony/twilio/client')])
            # Saving the same URL again asks nothing of the provider.
            self.account.with_user(self.telephony_admin).webhook_base_url = 'https://new.example.com/'
        self.assertEqual(len(updates), 1)

    def test_a_twiml_app_gone_at_the_provider_stops_the_change(self):
        self.account.sudo().twilio_twiml_app_sid = 'AP-not-a-sid'
        old_url = self.account.webhook_base_url
        with patch.object(type(self.account._get_gateway()), 'update_number') as update_number, \
                self.assertRaisesRegex(UserError, "TwiML App AP-not-a-sid does not exist"), \
                self.env.cr.savepoint():  # the request's transaction, rolled back
            self.account.with_user(self.telephony_admin).webhook_base_url = 'https://new.example.com/'
        update_number.assert_not_called()  # no number moved before the App failed
        self.env.invalidate_all()
        self.assertEqual(self.account.webhook_base_url, old_url)


@tagged('post_install', '-at_install')
class TestCreditsLiveCallsMaySpend(WebhookCase):
    """Item 9: what live calls may spend is reserved; incoming calls are bounded too."""

    def test_simultaneous_outgoing_calls_share_the_credits(self):
        # 1 credit left; calls to the US cost 0.02 per minute: 50 minutes in all, not 50 each.
        self.account._charge('call', self.account.balance - 1, 'CA-spend-down')
        self.bob.write({'caller_id_number_ids': [(6, 0, self.number.ids)]})
        first = self.driver.outgoing_call(self.alice.client_identity, '+12125550142')
        self.assertEqual(int(first.waiting[1].get('timeLimit')), 50 * 60)
        second = self.driver.outgoing_call(self.bob.client_identity, '+12125550143')
        self.assertTrue(second.ended, "the first call may spend every credit left")
        self.assertEqual(self.record(second).step_ids.mapped('event'), ['no_credit'])
        first.callee_answers(120)  # 2 minutes: the rest is free again
        third = self.driver.outgoing_call(self.bob.client_identity, '+12125550143')
        self.assertEqual(int(third.waiting[1].get('timeLimit')), 48 * 60)

    def test_an_incoming_call_is_put_through_with_a_time_limit(self):
        self.account._charge('call', self.account.balance - 1, 'CA-spend-down')
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        call.press('1')
        dial = call.waiting[1]
        self.assertEqual(dial.tag, 'Dial')
        # Local US number, incoming: 0.01 per minute; 1 credit pays 100 minutes.
        self.assertEqual(int(dial.get('timeLimit')), 100 * 60)

    def test_what_monthly_charges_do_at_zero_is_defined_and_stated(self):
        self.account._charge('call', self.account.balance, 'CA-spend-all')
        self.number.monthly_price = 2
        self.number._charge_month()
        self.assertLess(self.account.balance, 0, "a month is owed to the provider: it is charged")
        self.assertTrue(self.account.credits_exhausted_notified, "and administrators are told")
        arch = self.env['telephony.account'].with_user(self.telephony_admin).get_views(
            [(False, 'form')])['views']['form']['arch']
        self.assertIn('Numbers are charged every month even when the credits have run out', arch)


@tagged('post_install', '-at_install')
class TestFailClosed(WebhookCase):
    """Item 14: a destination without a rate is not free."""

    def test_a_destination_without_a_rate_is_refused(self):
        self.env['telephony.rate'].search([('direction', '=', 'outbound')]).unlink()
        call = self.driver.outgoing_call(self.alice.client_identity, '+12125550142')
        self.assertTrue(call.ended)
        self.assertEqual(self.record(call).status, 'failed')


@tagged('post_install', '-at_install')
class TestFlowAudio(WebhookCase):
    """Item 1: a flow plays only audio uploaded to it, through a checked, expiring URL."""

    WAV = b'RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00'

    def _attachment(self, **values):
        return self.env['ir.attachment'].create(dict({
            'name': 'hello.wav', 'raw': self.WAV, 'mimetype': 'audio/wav',
            'res_model': 'telephony.flow', 'res_id': self.flow.id}, **values))

    def _play(self, attachment):
        self.flow.definition = json.dumps({'start': 'hi', 'states': {'hi': {
            'type': 'announce', 'message': {'kind': 'file', 'attachment_id': attachment.id}, 'next': {}}}})

    def test_only_audio_uploaded_to_the_flow_is_published(self):
        partner = self.env['res.partner'].create({'name': "A customer"})
        other_flow = self._flow()
        for foreign in (self._attachment(name='contract.pdf', raw=b'%PDF-1.4 secret', mimetype='application/pdf',
                                         res_model='res.partner', res_id=partner.id),
                        self._attachment(res_id=other_flow.id),
                        self._attachment(name='notes.txt', raw=b'secret', mimetype='text/plain')):
            with self.subTest(attachment=foreign.name):
                self._play(foreign)
                with self.assertRaisesRegex(ValidationError, 'not an audio file uploaded to this call flow'):
                    self.flow.action_publish()
        self._play(self._attachment())
        self.flow.action_publish()

    def test_the_audio_is_served_checked_and_signed(self):
        audio = self._attachment()
        self._play(audio)
        self.flow.action_publish()
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        kind, url = call.heard[0]
        self.assertEqual(kind, 'play')
        self.assertIn('/telephony/audio/', url)
        self.assertNotIn('access_token', url)
        self.assertFalse(audio.access_token, "no permanent public token on the file")
        response = self.url_open(url)
        self.assertEqual((response.status_code, response.content), (200, self.WAV))
        self.assertEqual(self.url_open(url[:-4] + 'abcd').status_code, 404)
        # Moved elsewhere since publication: no longer served, no longer played.
        audio.res_model = 'res.partner'
        self.assertEqual(self.url_open(url).status_code, 404)
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        self.assertNotIn('play', [kind for kind, _text in call.heard])


@tagged('post_install', '-at_install')
class TestQueueHandOff(WebhookCase):
    """Item 2: the provider is asked to take a waiting caller out of the queue by a job, after
    the webhook that freed the user has committed: once, whatever is retried."""

    def setUp(self):
        super().setUp()
        gateway_patch = patch.object(type(self.env['telephony.account']), '_get_gateway',
                                     lambda account: self.driver.gateway())
        gateway_patch.start()
        self.addCleanup(gateway_patch.stop)

    def _alice_talks_while_callers_wait(self, waiting=1):
        first = self.driver.incoming_call('+14155550111', self.number.phone_number)
        first.press('1')
        first.answer(self.alice.client_identity)
        callers = []
        for index in range(waiting):
            caller = self.driver.incoming_call(f'+1415555013{index}', self.number.phone_number)
            caller.press('1')
            self.assertEqual(caller.waiting[0], 'queue')
            callers.append(caller)
        return first, callers

    def test_a_retried_webhook_asks_the_provider_once(self):
        first, [second] = self._alice_talks_while_callers_wait()
        Call = type(self.env['telephony.call'])
        original = Call._connect_next_caller
        conflicts = []

        def conflict_once(calls, account, user):
            original(calls, account, user)
            if not conflicts:
                conflicts.append(user)
                # Another worker updated the same rows: Odoo rolls back and runs the request again.
                calls.env.cr.execute("DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' "
                                     "USING ERRCODE = 'serialization_failure'; END $$")
        with patch.object(Call, '_connect_next_caller', conflict_once), \
                mute_logger('odoo.service.model', 'odoo.addons.builtin_telephony'):
            first.end_talk(60)
        self.assertTrue(conflicts, "a request that freed Alice was retried")
        self.assertEqual(self.driver.dequeued, [], "nothing asked of the provider inside a webhook")
        self.assertEqual(self.record(second).handoff_user_id, self.alice)
        # Twilio delivers the end of the agent's leg and of the call once more.
        first.leg_status(self.alice.client_identity, 'completed', CallDuration=60)
        first.end('completed')
        self.driver.hand_off_queued_callers()
        self.driver.hand_off_queued_callers()
        self.assertEqual(self.driver.dequeued, [second.sid])
        self.assertEqual(second.ringing(), [self.alice.client_identity])
        record = self.record(second)
        self.assertFalse(record.handoff_user_id or record.queue_name)
        self.assertIn(('sales', 'dequeued'), [(step.state_ref, step.event) for step in record.step_ids])

    def test_a_caller_who_left_is_skipped_for_the_next_one(self):
        first, [second, third] = self._alice_talks_while_callers_wait(2)
        first.end_talk(60)
        self.assertEqual(self.record(second).handoff_user_id, self.alice)
        second.hang_up()  # before the job ran
        self.driver.hand_off_queued_callers()
        self.assertEqual(self.driver.dequeued, [third.sid])
        self.assertEqual(third.ringing(), [self.alice.client_identity])
        self.assertFalse(self.record(second).handoff_user_id)

    def test_a_caller_gone_at_the_provider_is_not_replaced_by_another(self):
        """The hand-off names its caller: run again (a crash before its commit), or for a caller
        Twilio no longer has, it takes nobody else out of the queue."""
        first, [second, third] = self._alice_talks_while_callers_wait(2)
        first.end_talk(60)
        self.driver.leave_queue(second)  # gone at Twilio; its callbacks are not in yet
        self.driver.hand_off_queued_callers()
        self.assertEqual(self.driver.dequeued, [third.sid])
        self.assertFalse(self.record(second).queue_name)

    def test_the_provider_failing_is_retried(self):
        first, [second] = self._alice_talks_while_callers_wait()
        first.end_talk(60)
        failing = self.driver.gateway()
        failing.dequeue_member = Mock(side_effect=TelephonyProviderError(NO_ANSWER))
        with patch.object(type(self.env['telephony.account']), '_get_gateway', lambda account: failing), \
                mute_logger('odoo.addons.builtin_telephony.models.telephony_call'):
            self.driver.hand_off_queued_callers()
        failing.dequeue_member.assert_called_once()
        record = self.record(second)
        self.assertEqual(record.handoff_user_id, self.alice)
        self.assertTrue(record.next_handoff_date)
        self.assertEqual(second.waiting[0], 'queue', "the caller keeps hearing the music")
        self.driver.hand_off_queued_callers()  # not due yet
        self.assertEqual(self.driver.dequeued, [])
        self.assertGreater(record.next_handoff_date, fields.Datetime.now())
        record.next_handoff_date -= timedelta(minutes=1)  # time passes
        self.driver.hand_off_queued_callers()
        self.assertEqual(self.driver.dequeued, [second.sid])
        self.assertEqual(second.ringing(), [self.alice.client_identity])

    def test_a_user_who_signed_out_meanwhile_is_not_rung(self):
        first, [second] = self._alice_talks_while_callers_wait()
        first.end_talk(60)
        self.alice.availability = 'offline'
        self.driver.hand_off_queued_callers()
        self.assertEqual(self.driver.dequeued, [])
        record = self.record(second)
        self.assertFalse(record.handoff_user_id)
        self.assertTrue(record.queue_name, "still waiting for someone else")

    def test_the_webhook_that_frees_a_user_costs_no_more_than_before(self):
        """With a caller waiting, the callback that frees the user used to ask Twilio twice (the
        queue listing, the dequeue) on top of its statements; now a row and a trigger, in as many
        statements as before (Odoo's own included): account (signature), call, the user and
        their groups, the waiting caller, the user's pending hand-off, the cron, INSERT trigger,
        UPDATE both calls."""
        counts = []
        for _round in range(2):  # the first warms the worker's caches
            first, [second] = self._alice_talks_while_callers_wait()
            with patch.object(self.driver, 'deliver_redirects', lambda: None), \
                    self.assertLogs('odoo.sql_db', 'DEBUG') as logs:
                first.leg_status(self.alice.client_identity, 'completed', CallDuration=60)
            counts.append([record.getMessage() for record in logs.records if 'query: ' in record.getMessage()])
            self.assertEqual(self.driver.dequeued, [])
            second.hang_up()
            first.end('completed')
            self.driver.hand_off_queued_callers()
        self.assertLessEqual(len(counts[-1]), 15, '\n'.join(counts[-1]))
