"""Real calls through published call flows, over the signed Twilio webhooks (F1, F5, H1,
P1, P2), driven by tests/twilio_driver.py as Twilio would drive them.

The flow (tests/common.py, ``demo_definition``): Welcome → Main menu; 1 → Sales
(Alice, queue of 2), 2 → Support (sequential: Bob, Carol), 3 → Team (parallel: Alice, Bob, queue
of 1), * and timeout → Voicemail → Goodbye.
"""
import json
import xml.etree.ElementTree as ET
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools.sql import index_exists

from ..tools.flow import load_definition, runtime
from .common import CALLER, DriverCase
from .twilio_driver import SimulatedCall, client_identity


@tagged('post_install', '-at_install')
class TestCallFlows(DriverCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._publish_line('test-call-flows')
        (cls.alice | cls.bob | cls.carol).write({'availability': 'available'})
        cls.contact = cls.env['res.partner'].create({'name': 'Carla Caller', 'phone': CALLER})

    def events(self, call):
        return [(step.state_ref, step.event) for step in self.record(call).step_ids]

    def at_voicemail(self, call):
        self.assertEqual(call.waiting[0], 'record')
        self.assertEqual(call.said[-1], 'Leave a message after the tone.')

    # -- Start and IVR -----------------------------------------------------------------

    def test_start_logs_the_call_and_matches_the_caller(self):
        lead = self.env['crm.lead'].create({'name': 'Carla wants a quote',
                                            'phone': '+1 (415) 555-0199'})
        won = self.env['crm.lead'].create({'name': 'Older deal', 'phone': CALLER})
        won.action_set_won()
        call = self.call_in()
        self.assertEqual(call.said[:2], ['Thanks for calling', 'Press 1 for sales, 2 for support, '
                                         '3 for the team, star for voicemail.'])
        self.assertEqual(call.waiting[0], 'gather')
        gather = call.waiting[1]
        self.assertEqual((gather.get('numDigits'), gather.get('timeout')), ('1', '5'))
        record = self.record(call)
        self.assertEqual((record.direction, record.status), ('inbound', 'in_progress'))
        self.assertEqual(record.number_id, self.number)
        self.assertEqual(record.flow_version_id, self.flow.published_version_id)
        self.assertEqual(record.partner_id, self.contact)
        self.assertEqual(record.lead_id, lead, "the open lead, not the won one")
        self.assertEqual(self.events(call), [('welcome', 'entered'), ('welcome', 'next'),
                                             ('menu', 'entered')])

    def test_caller_matching_is_indexed(self):
        self.assertIn('phone_sanitized', self.env['res.partner']._fields, "sms is installed here")
        self.assertTrue(index_exists(self.env.cr, 'res_partner_phone_sanitized_telephony_index'))
        self.env.cr.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'crm_lead'"
                            " AND indexdef LIKE '%%(phone_sanitized)%%'")
        self.assertTrue(self.env.cr.fetchall(), "crm indexes its leads' phone_sanitized")

    def test_each_ivr_key(self):
        expected = {'1': ('dial', ['alice']), '2': ('dial', ['bob']),
                    '3': ('dial', ['alice', 'bob']), '*': ('record', None)}
        for key, (verb, rung) in expected.items():
            with self.subTest(key=key):
                call = self.call_in()
                call.press(key)
                self.assertEqual(call.waiting[0], verb)
                if rung:
                    identities = {'alice': self.alice, 'bob': self.bob}
                    self.assertEqual(call.ringing(), [identities[name].client_identity for name in rung])
                self.assertIn(('menu', key), self.events(call))

    def test_ivr_timeout_and_invalid_key(self):
        call = self.call_in()
        call.stay_silent()
        self.at_voicemail(call)
        self.assertIn(('menu', 'timeout'), self.events(call))

        call = self.call_in()
        call.press('9')
        self.assertEqual(call.said[-2:], ['Sorry, that is not a valid option.',
                                          call.said[1]])
        self.assertEqual(call.waiting[0], 'gather', "the menu is played again")
        self.assertIn(('menu', 'invalid_key'), self.events(call))

    # -- Transfer to user --------------------------------------------------------------

    def test_free_user_answers(self):
        call = self.call_in()
        call.press('1')
        dial = call.waiting[1]
        self.assertEqual((dial.get('timeout'), dial.get('record')), ('20', 'record-from-answer-dual'))
        call.answer_and_talk(self.alice.client_identity, seconds=95)
        self.assertTrue(call.ended)
        record = self.record(call)
        self.assertEqual(record.status, 'completed')
        self.assertEqual(record.user_id, self.alice.user_id, "the call owner is who answered")
        self.assertEqual(record.duration, call.seconds)
        self.assertTrue(record.answer_date and record.end_date)
        self.assertEqual(record.recording_ids.kind, 'call')
        self.assertEqual(record.recording_duration, 95)
        self.assertGreater(record.credits, 0, "the call is charged when it completes")
        self.assertIn(('sales', 'ringing'), self.events(call))
        self.assertEqual(record.step_ids.filtered(lambda s: s.event == 'answered').user_id,
                         self.alice.user_id)

    def test_start_answer_and_end_are_the_call_s_own_times(self):
        """Twilio's status callbacks carry the time of their event (Timestamp): a call of two
        and a half minutes reads so, however fast the callbacks arrive."""
        call = self.call_in()
        call.press('1')
        before_answer = call.seconds
        call.answer_and_talk(self.alice.client_identity, seconds=150)
        record = self.record(call)
        self.assertEqual(record.duration, call.seconds)
        answered = (record.answer_date - record.start_date).total_seconds()
        lasted = (record.end_date - record.start_date).total_seconds()
        self.assertAlmostEqual(answered, before_answer, delta=2)
        self.assertAlmostEqual(lasted, call.seconds, delta=2)
        self.assertLess(record.start_date, record.answer_date)
        self.assertLess(record.answer_date, record.end_date)

    def test_free_user_does_not_answer_then_voicemail_left(self):
        call = self.call_in()
        call.press('1')
        call.no_answer()
        self.at_voicemail(call)
        call.leave_message(12)
        self.assertEqual(call.said[-1], 'Thank you, your message has been recorded. Goodbye.')
        record = self.record(call)
        self.assertEqual(record.status, 'voicemail')
        self.assertEqual((record.recording_ids.kind, record.recording_ids.duration), ('voicemail', 12))
        self.assertIn(('sales', 'timeout'), self.events(call))
        self.assertIn(('vm', 'voicemail'), self.events(call))

    def test_offline_user_then_no_voicemail_left(self):
        self.alice.availability = 'offline'
        call = self.call_in()
        call.press('1')
        self.at_voicemail(call)
        call.stay_silent()
        self.assertEqual(call.said[-2:], ['Goodbye', 'Thank you for calling. Goodbye.'])
        self.assertTrue(call.ended)
        record = self.record(call)
        self.assertEqual(record.status, 'missed')
        self.assertFalse(record.user_id)
        self.assertIn(('sales', 'unavailable'), self.events(call))
        self.assertIn(('vm', 'timeout'), self.events(call))

    def _alice_on_a_call(self):
        first = self.call_in('+14155550111')
        first.press('1')
        first.answer(self.alice.client_identity)
        self.assertEqual(self.record(first).status, 'in_progress')
        return first

    def test_busy_user_queue_then_music_ends(self):
        self._alice_on_a_call()
        call = self.call_in()
        call.press('1')
        self.assertEqual(call.waiting[0], 'queue')
        self.assertEqual(call.heard[-3:], [('say', 'Please hold'),
                                           ('play', 'https://example.com/hold.mp3'),
                                           ('play', 'https://example.com/hold.mp3')])
        self.assertTrue(self.record(call).queue_name)
        call.music_ends()
        self.at_voicemail(call)
        self.assertFalse(self.record(call).queue_name)
        self.assertEqual([event for state, event in self.events(call) if state == 'sales'],
                         ['entered', 'queued', 'timeout'])

    def test_dequeued_when_the_agent_frees_up(self):
        first = self._alice_on_a_call()
        second = self.call_in('+14155550122')
        second.press('1')
        self.assertEqual(second.waiting[0], 'queue')
        first.end_talk(60)
        # The agent's leg ended: the hand-off job takes the waiting caller out of the queue to
        # ring Alice.
        self.driver.hand_off_queued_callers()
        self.assertEqual(second.waiting[0], 'dial')
        self.assertEqual(second.ringing(), [self.alice.client_identity])
        self.assertIn(('sales', 'dequeued'), self.events(second))
        second.answer_and_talk(self.alice.client_identity, 20)
        record = self.record(second)
        self.assertEqual((record.status, record.user_id), ('completed', self.alice.user_id))
        self.assertEqual(self.record(first).status, 'completed')

    def test_queued_caller_hangs_up(self):
        first = self._alice_on_a_call()
        call = self.call_in()
        call.press('1')
        call.hang_up()
        record = self.record(call)
        self.assertEqual(record.status, 'missed')
        self.assertFalse(record.queue_name, "the caller no longer counts in the queue")
        first.end_talk(30)
        self.driver.hand_off_queued_callers()
        self.assertEqual(self.driver.dequeued, [])
        self.assertNotIn(('sales', 'dequeued'), self.events(call))

    def test_queue_overflow_is_busy(self):
        self._alice_on_a_call()
        waiting = [self.call_in('+1415555013%s' % index) for index in range(3)]
        for call in waiting:
            call.press('1')
        self.assertEqual([call.waiting[0] for call in waiting[:2]], ['queue', 'queue'])
        overflow = waiting[2]
        self.at_voicemail(overflow)
        self.assertIn(('sales', 'busy'), self.events(overflow))

    def test_busy_user_without_queue(self):
        definition = self.definition()
        definition['states']['sales']['queue'] = {'enabled': False}
        self.flow.definition = json.dumps(definition)
        self.flow.action_publish()
        self._alice_on_a_call()
        call = self.call_in()
        call.press('1')
        self.at_voicemail(call)
        self.assertIn(('sales', 'busy'), self.events(call))

    # -- Transfer to group -------------------------------------------------------------

    def test_parallel_group_someone_answers(self):
        call = self.call_in()
        call.press('3')
        self.assertEqual(sorted(call.ringing()),
                         sorted([self.alice.client_identity, self.bob.client_identity]))
        call.answer_and_talk(self.bob.client_identity, 40)
        record = self.record(call)
        self.assertEqual((record.status, record.user_id), ('completed', self.bob.user_id))

    def test_parallel_group_nobody_answers(self):
        call = self.call_in()
        call.press('3')
        self.assertEqual(call.waiting[1].get('timeout'), '25')
        call.no_answer()
        self.at_voicemail(call)
        self.assertIn(('team', 'timeout'), self.events(call))

    def test_parallel_group_rings_only_members_online(self):
        self.alice.availability = 'offline'
        call = self.call_in()
        call.press('3')
        self.assertEqual(call.ringing(), [self.bob.client_identity])

    def test_sequential_group_in_sign_in_order(self):
        call = self.call_in()
        call.press('2')
        self.assertEqual(call.ringing(), [self.bob.client_identity])
        self.assertEqual(call.waiting[1].get('timeout'), '10')
        call.no_answer()
        self.assertEqual(call.ringing(), [self.carol.client_identity])
        call.answer_and_talk(self.carol.client_identity, 30)
        record = self.record(call)
        self.assertEqual((record.status, record.user_id), ('completed', self.carol.user_id))

    def test_sequential_group_nobody_answers(self):
        call = self.call_in()
        call.press('2')
        call.no_answer()
        call.no_answer()
        self.at_voicemail(call)
        self.assertIn(('support', 'timeout'), self.events(call))

    def test_sequential_group_skips_offline_members(self):
        self.bob.availability = 'offline'
        call = self.call_in()
        call.press('2')
        self.assertEqual(call.ringing(), [self.carol.client_identity])
        call.no_answer()
        self.at_voicemail(call)

    def test_group_all_busy(self):
        # Team (queue of 1): Alice and Bob busy → the caller waits; Support (no queue): busy.
        self._alice_on_a_call()
        bob_call = self.call_in('+14155550144')
        bob_call.press('2')
        bob_call.answer(self.bob.client_identity)
        self.carol.availability = 'offline'
        queued = self.call_in()
        queued.press('3')
        self.assertEqual(queued.waiting[0], 'queue')
        call = self.call_in('+14155550155')
        call.press('2')
        self.assertIn(('support', 'busy'), self.events(call))
        self.assertTrue(call.ended)
        self.assertEqual(call.said[-2:], ['Goodbye', 'Thank you for calling. Goodbye.'])
        self.assertEqual(self.record(call).status, 'busy')

    # -- Calls that are refused -------------------------------------------------------

    def test_blocked_caller_is_rejected(self):
        self.env['telephony.blocked.number'].create({'phone_number': CALLER,
                                                     'company_id': self.company.id})
        call = self.call_in()
        self.assertEqual(call.rejected, 'rejected')
        self.assertEqual(call.heard, [])
        record = self.record(call)
        self.assertEqual(record.status, 'blocked')
        self.assertEqual(record.step_ids.mapped('event'), ['blocked'])

    def test_number_without_flow_or_disabled_flow_rejects(self):
        self.flow.action_archive()
        call = self.call_in()
        self.assertEqual(call.rejected, 'rejected')
        self.assertEqual(self.record(call).status, 'rejected')
        self.flow.action_unarchive()
        self.number.flow_id = False
        call = self.call_in()
        self.assertEqual(call.rejected, 'rejected')
        self.assertEqual(self.record(call).step_ids.mapped('event'), ['no_flow'])

    def test_forged_signature_is_refused_and_writes_nothing(self):
        calls_before = self.env['telephony.call'].search_count([])
        params = {'AccountSid': self.account.twilio_account_sid, 'CallSid': 'CAforged',
                  'From': CALLER, 'To': self.number.phone_number, 'CallStatus': 'ringing'}
        response = self.driver.post(self.account.voice_webhook_url, params,
                                    signature='bm90IGEgc2lnbmF0dXJl')
        self.assertEqual(response.status_code, 403)
        # Signed for another URL: refused too.
        signature = self.driver.validator.compute_signature('https://evil.example/voice', params)
        self.assertEqual(self.driver.post(self.account.voice_webhook_url, params,
                                          signature=signature).status_code, 403)
        self.assertEqual(self.env['telephony.call'].search_count([]), calls_before)

    # -- Reliability -------------------------------------------------------------------

    def test_same_status_callback_twice_changes_nothing(self):
        call = self.call_in()
        call.press('1')
        call.answer_and_talk(self.alice.client_identity, 61)
        record = self.record(call)
        transactions = self.env['telephony.wallet.transaction'].search_count([])
        before = record.read(['status', 'duration', 'end_date', 'credits', 'user_id'])
        steps = len(record.step_ids)
        self.driver.callback(self.account.status_webhook_url, call.params(
            CallStatus='completed', CallDuration=999))
        call.legs = {self.alice.client_identity: (record.answered_leg_sid, call.legs[
            self.alice.client_identity][1])}
        call.leg_status(self.alice.client_identity, 'in-progress')
        call.leg_status(self.alice.client_identity, 'completed', CallDuration=61)
        record.invalidate_recordset()
        self.assertEqual(record.read(['status', 'duration', 'end_date', 'credits', 'user_id']), before)
        self.assertEqual(self.env['telephony.wallet.transaction'].search_count([]), transactions)
        self.assertEqual(len(record.step_ids), steps)

    def test_fault_mid_flow_apologises_then_offers_voicemail(self):
        call = self.call_in()
        with patch.object(runtime, 'on_gather', side_effect=RuntimeError('injected')), \
                self.assertLogs('odoo.addons.builtin_telephony.models.telephony_call', 'ERROR'):
            call.press('1')
        self.assertEqual(call.said[-2:], ['We are sorry, something went wrong.',
                                          'Leave a message after the tone.'])
        self.at_voicemail(call)
        self.assertEqual(self.events(call)[-1], ('vm', 'entered'))
        self.assertIn(('', 'fault'), self.events(call))
        call.leave_message(5)
        self.assertEqual(self.record(call).status, 'voicemail')

    def test_fault_without_voicemail_hangs_up_politely(self):
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        with patch.object(type(self.env['telephony.call']), '_flow_context',
                          side_effect=RuntimeError('injected')), \
                self.assertLogs('odoo.addons.builtin_telephony.models.telephony_call', 'ERROR'):
            response = self.driver.post(call.waiting[1].get('action'), call.params(Digits='1'))
        self.assertEqual(response.status_code, 200)
        self.assertIn(b'<Say>We are sorry, something went wrong.</Say><Hangup', response.content)

    def test_flow_route_only_runs_flow_actions(self):
        params = {'AccountSid': self.account.twilio_account_sid, 'CallSid': 'CAnotacall',
                  'From': CALLER, 'To': self.number.phone_number}
        with self.assertLogs('odoo.addons.builtin_telephony.models.telephony_call', 'ERROR'):
            root = self.driver.twiml(self.base_url() + '/telephony/twilio/flow/voice', params)
        self.assertEqual([verb.tag for verb in root], ['Say', 'Hangup'])
        self.assertFalse(self.env['telephony.call'].search([('provider_sid', '=', 'CAnotacall')]))

    def test_republishing_mid_call_keeps_the_version_it_started_with(self):
        call = self.call_in()
        definition = self.definition()
        del definition['states']['sales']
        definition['states']['menu']['next']['1'] = 'vm'
        self.flow.definition = json.dumps(definition)
        self.flow.action_publish()
        call.press('1')
        self.assertEqual(call.waiting[0], 'dial', "still the first version's Sales")
        self.assertEqual(self.record(call).flow_version_id.version, 1)

    # -- Cost (P3, bench/bench_inbound_call.py) ----------------------------------

    def webhook_queries(self, url, params):
        """The SQL statements the server runs to answer one webhook, Odoo's own included."""
        with self.assertLogs('odoo.sql_db', 'DEBUG') as logs:
            response = self.driver.post(url, params)
        self.assertIn(response.status_code, (200, 204), response.text)
        return response, [record.getMessage().split('query: ', 1)[1] for record in logs.records
                          if 'query: ' in record.getMessage()]

    def answered_call_queries(self):
        """The four webhooks of the benchmark's call (voice, key 1, answered, completed), sent
        one by one as Twilio sends them: ``{webhook: [statements]}``."""
        call = SimulatedCall(self.driver, CALLER, self.number.phone_number)
        queries = {}
        response, queries['voice'] = self.webhook_queries(
            self.account.voice_webhook_url, call.params(CallStatus='ringing'))
        gather = ET.fromstring(response.content).find('Gather')
        response, queries['gather'] = self.webhook_queries(gather.get('action'),
                                                           call.params(Digits='1'))
        dial = ET.fromstring(response.content).find('Dial')
        self.assertEqual(client_identity(dial.find('Client')), self.alice.client_identity)
        response, queries['dial'] = self.webhook_queries(
            dial.get('action'), call.params(DialCallStatus='completed', DialCallDuration='60'))
        self.assertEqual([verb.tag for verb in ET.fromstring(response.content)], ['Hangup'])
        _response, queries['status'] = self.webhook_queries(
            self.account.status_webhook_url, call.params(CallStatus='completed', CallDuration='75'))
        record = self.record(call)
        # No softphone leg reported answering here (the benchmark sends none): the call ended
        # unanswered, and was charged.
        self.assertEqual((record.status, record.duration), ('missed', 75))
        self.assertGreater(record.credits, 0)
        return queries

    def test_webhook_query_counts(self):
        """Pins the queries of each webhook of the benchmark's call (as assertQueryCount does:
        more fails, fewer is fine), so that a query added to the inbound-call path fails here
        before it shows in the benchmark. Each count includes Odoo's own for a public route (the
        public user's existence)."""
        budgets = {
            # account (signature), call (retry?), number, flow, company and its partner (the
            # country of national numbers), block list, rate, balance and live calls'
            # reservations (credit check and time limit), contact, lead, INSERT call, INSERT steps
            'voice': 15,
            # account, call, users' availability and live calls, INSERT steps; who is calling
            # (the contact's name, the rung users' partners, INSERT rung users, INSERT bus);
            # UPDATE call (the request answered, so that Twilio's retry of it is answered
            # without a second walk)
            'gather': 11,
            # account, call, INSERT step, UPDATE call (outcome)
            'dial': 5,
            # account, call, its number and rate, the charge and its line, UPDATE call; the
            # note on the contact's chatter (logged, not posted: the company's reply-to, INSERT)
            # and its call-back activity (the rung user, a lock, the open one)
            'status': 14,
        }
        self.answered_call_queries()    # warms the worker's caches: routing, the version...
        for webhook, queries in self.answered_call_queries().items():
            with self.subTest(webhook=webhook):
                self.assertLessEqual(len(queries), budgets[webhook], '\n'.join(queries))
        version = self.flow.published_version_id
        self.assertEqual(version._get_definition(), json.loads(version.definition),
                         "the engine left the cached definition as published")

    def test_published_version_cannot_change(self):
        """Webhooks cache published definitions per worker, keyed on the version: exact only
        because a version never changes once published."""
        version = self.flow.published_version_id
        with self.assertRaises(UserError):
            version.write({'definition': json.dumps(load_definition(
                version.definition) | {'start': 'vm'})})
        self.assertEqual(version._get_definition()['start'], 'welcome')

    def test_no_credits_announces_unavailability(self):
        with patch.object(type(self.account), '_call_allowance', return_value=(0, 0.0, 'no_credit')):
            call = self.call_in()
        self.assertEqual(call.said, ['We are sorry, this service is temporarily unavailable. '
                                     'Please call again later.'])
        self.assertTrue(call.ended)
        self.assertEqual(self.record(call).status, 'failed')


@tagged('post_install', '-at_install')
class TestOutgoingCalls(DriverCase):
    """The softphone's TwiML App voice URL (/telephony/twilio/client)."""

    patch_gateway = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.webhook_base_url = cls.base_url()
        cls.account.add_credits(100, 'test-outgoing-calls')
        cls.number = cls._number('+14155550100')
        cls.alice.write({'caller_id_number_ids': [(6, 0, cls.number.ids)], 'record_outbound': True})

    def test_call_placed_and_charged(self):
        call = self.driver.outgoing_call(self.alice.client_identity, '+1 (212) 555-0142')
        dial = call.waiting[1]
        self.assertEqual(call.ringing(), ['+12125550142'])
        self.assertEqual(dial.get('callerId'), '+14155550100')
        self.assertGreater(int(dial.get('timeLimit')), 0)
        self.assertEqual(dial.get('record'), 'record-from-answer-dual')
        record = self.record(call)
        self.assertEqual((record.direction, record.status, record.user_id),
                         ('outbound', 'ringing', self.alice.user_id))
        call.callee_answers(75)
        record.invalidate_recordset()
        self.assertEqual((record.status, record.duration), ('completed', 75))
        self.assertGreater(record.credits, 0)
        self.assertTrue(call.ended)

    def test_retried_request_dials_again_without_logging_twice(self):
        call = self.driver.outgoing_call(self.alice.client_identity, '+12125550142')
        root = self.driver.twiml(self.account.client_webhook_url, call.params())
        self.assertEqual(root.find('Dial').find('Number').text, '+12125550142')
        self.assertEqual(self.env['telephony.call'].search_count([('provider_sid', '=', call.sid)]), 1)
        self.assertEqual(len(self.record(call).step_ids), 1)

    def test_refusals_are_spoken_and_logged(self):
        cases = [
            (self.bob, '+12125550142', 'no_caller_id'),
            (self.alice, '+8613800138000', 'destination_refused'),
        ]
        for user, destination, event in cases:
            with self.subTest(event=event):
                call = self.driver.outgoing_call(user.client_identity, destination)
                self.assertTrue(call.ended)
                self.assertEqual(len(call.said), 1)
                record = self.record(call)
                self.assertEqual(record.status, 'failed')
                self.assertEqual(record.step_ids.mapped('event'), [event])
        with patch.object(type(self.account), '_call_allowance', return_value=(0, 0.0, 'no_credit')):
            call = self.driver.outgoing_call(self.alice.client_identity, '+12125550142')
        self.assertIn('no credits left', call.said[0])
        self.assertEqual(self.record(call).step_ids.mapped('event'), ['no_credit'])
        self.alice.allow_outbound = False
        call = self.driver.outgoing_call(self.alice.client_identity, '+12125550142')
        self.assertEqual(call.said, ['You are not allowed to make outgoing calls. Ask your '
                                     'telephony administrator.'])
        self.assertEqual(self.record(call).step_ids.mapped('event'), ['not_allowed'])
