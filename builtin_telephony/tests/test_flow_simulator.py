"""The flow simulator (B2): ``telephony.flow.simulate`` walks a flow with the engine that
answers real calls. Each scenario is played twice — as a real call through the signed webhooks
(tests/twilio_driver.py) and in the simulator, with the same choices — and both must take the
same path, log the same events, say the same things and end the same way; the simulation writes
nothing. The flow (``demo_definition``) has every state type."""
import xmlrpc.client

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CALLER, DriverCase


@tagged('post_install', '-at_install')
class TestFlowSimulator(DriverCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._publish_line('test-flow-simulator')
        (cls.alice | cls.bob | cls.carol).write({'availability': 'available'})

    def _alice_on_a_call(self):
        first = self.call_in('+14155550111')
        first.press('1')
        first.answer(self.alice.client_identity)
        self.assertEqual(self.record(first).status, 'in_progress')
        return first

    def drive(self, choices, call=None):
        """Play ``choices`` on a real incoming call, as the simulator reads them."""
        call = call or self.call_in()
        for choice in choices:
            kind = call.waiting and call.waiting[0]
            if kind == 'gather':
                call.press(choice) if choice else call.stay_silent()
            elif kind == 'record':
                call.leave_message(12) if choice == 'message' else call.stay_silent()
            elif kind == 'dial':
                if choice == 'answered':
                    call.answer_and_talk(call.ringing()[0])
                else:
                    self.assertEqual(choice, 'no-answer', 'busy/offline are set before the call')
                    call.no_answer()
            else:
                self.fail('the real call waits for nothing at choice %r' % choice)
        return call

    def assert_same(self, choices, call, end):
        """The simulation of ``choices`` matches the real ``call`` (which must have ended)."""
        counts = {model: self.env[model].search_count([])
                  for model in ('telephony.call', 'telephony.call.step',
                                'telephony.wallet.transaction')}
        result = self.flow.simulate('published', choices, caller=CALLER)
        self.assertTrue(call.ended, 'the real call is over')
        self.assertEqual(result['end'], end)
        self.assertFalse(result['waiting'])
        # Steps without a state are the softphone legs' own events (a leg answered...), which
        # the call log keeps beside the flow's path.
        real = [(step.state_ref, step.event) for step in self.record(call).step_ids
                if step.state_ref]
        simulated = [(step['state'], step['event']) for step in result['steps']]
        self.assertEqual(simulated, real)
        self.assertEqual(result['path'], [state for state, event in real if event == 'entered'])
        # What the caller heard, in the same order.
        said = ' '.join(step['said'] for step in result['steps'])
        position = 0
        for text in call.said:
            found = said.find(text, position)
            self.assertGreaterEqual(found, 0, '%r not said (in order) in %r' % (text, said))
            position = found + len(text)
        # Nothing logged or charged.
        self.assertEqual({model: self.env[model].search_count([]) for model in counts}, counts)
        return result

    # -- Every state type ---------------------------------------------------------------

    def test_announce_ivr_and_user_answers(self):
        choices = ['1', 'answered']
        result = self.assert_same(choices, self.drive(choices), 'completed')
        self.assertEqual(result['path'], ['welcome', 'menu', 'sales'])
        self.assertEqual(result['steps'][0]['said'], 'Thanks for calling')
        self.assertIn('Press 1 for sales', result['steps'][2]['said'])

    def test_user_does_not_answer_then_voicemail(self):
        choices = ['1', 'no-answer', 'message']
        result = self.assert_same(choices, self.drive(choices), 'voicemail')
        self.assertEqual(result['path'], ['welcome', 'menu', 'sales', 'vm'])

    def test_user_offline_then_no_message(self):
        self.alice.availability = 'offline'
        choices = ['1', 'offline', '']
        self.assert_same(choices, self.drive(['1', '']), 'missed')
        result = self.flow.simulate('published', choices)
        self.assertIn(('sales', 'unavailable'),
                      [(step['state'], step['event']) for step in result['steps']])
        self.assertEqual(result['path'][-1], 'bye')

    def test_user_busy_queue_then_hold_music_ends(self):
        self._alice_on_a_call()
        call = self.call_in()
        call.press('1')
        call.music_ends()
        call.stay_silent()
        result = self.assert_same(['1', 'busy', ''], call, 'missed')
        events = [event for step in result['steps'] if step['state'] == 'sales'
                  for event in [step['event']]]
        self.assertEqual(events, ['entered', 'queued', 'timeout'])
        queued = next(step for step in result['steps'] if step['event'] == 'queued')
        self.assertIn('Please hold', queued['said'])
        self.assertIn('♪ https://example.com/hold.mp3 (×2)', queued['said'])

    def test_sequential_group_nobody_answers(self):
        choices = ['2', 'no-answer', 'no-answer', '']
        result = self.assert_same(choices, self.drive(choices), 'missed')
        ringing = [step for step in result['steps'] if step['event'] == 'ringing']
        self.assertEqual(len(ringing), 2, 'Bob, then Carol')

    def test_parallel_group_answers(self):
        choices = ['3', 'answered']
        self.assert_same(choices, self.drive(choices), 'completed')

    def test_ivr_star_timeout_and_invalid_key(self):
        for choices in (['*', 'message'], ['', '']):
            with self.subTest(choices=choices):
                self.assert_same(choices, self.drive(choices), 'voicemail' if choices[1] else 'missed')
        choices = ['7', '1', 'answered']
        result = self.assert_same(choices, self.drive(choices), 'completed')
        invalid = next(step for step in result['steps'] if step['event'] == 'invalid_key')
        self.assertIn('not a valid option', invalid['said'])

    # -- Walking step by step, drafts, refusals -------------------------------------------------

    def test_choices_run_out_at_each_kind_of_decision(self):
        result = self.flow.simulate('published', [])
        self.assertEqual(result['end'], 'waiting')
        self.assertEqual(result['waiting'], {'state': 'menu', 'kind': 'ivr', 'options': [
            '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '']})
        result = self.flow.simulate('published', ['1'])
        self.assertEqual(result['waiting']['kind'], 'transfer')
        self.assertEqual(result['waiting']['state'], 'sales')
        result = self.flow.simulate('published', ['1', 'no-answer'])
        self.assertEqual((result['waiting']['kind'], result['waiting']['state']), ('voicemail', 'vm'))
        with self.assertRaises(UserError):
            self.flow.simulate('published', ['answered'])

    def test_draft_blocked_caller_and_unpublished_flow(self):
        flow = self._flow()
        with self.assertRaises(UserError):
            flow.simulate('published', [])
        result = flow.simulate('draft', ['2', 'offline'])
        self.assertEqual(result['path'][-1], 'bye', 'support unavailable goes to Goodbye')
        self.env['telephony.blocked.number'].create({
            'phone_number': '+14155550166', 'company_id': self.company.id})
        result = flow.simulate('draft', [], caller='+14155550166')
        self.assertEqual(result['end'], 'blocked')
        self.assertEqual(result['steps'], [])

    def test_simulate_through_xmlrpc(self):
        self.telephony_admin.password = 'admin-pass-42'
        models = xmlrpc.client.ServerProxy(f'{self.base_url()}/xmlrpc/2/object', allow_none=False)
        result = models.execute_kw(
            self.env.cr.dbname, self.telephony_admin.id, 'admin-pass-42', 'telephony.flow',
            'simulate', [[self.flow.id], 'published', ['1', 'no-answer', 'message']])
        self.assertEqual(result['path'], ['welcome', 'menu', 'sales', 'vm'])
        self.assertEqual(result['end'], 'voicemail')
        self.assertIs(result['waiting'], False)

    def test_business_hours_and_call_back_offer(self):
        text = lambda words: {'kind': 'text', 'text': words}  # noqa: E731
        flow = self._flow({'start': 'hours', 'states': {
            'hours': {'type': 'business_hours', 'name': 'Hours',
                      'calendar_id': self.env.ref('resource.resource_calendar_std').id,
                      'next': {'open': 'sales', 'closed': 'closed'}},
            'closed': {'type': 'announce', 'name': 'Closed', 'message': text('We are closed'),
                       'next': {}},
            'sales': {'type': 'transfer_user', 'name': 'Sales', 'user_id': self.alice.id,
                      'queue': {'enabled': True, 'max_calls': 2, 'music_loops': 2,
                                'announce_position': True,
                                'callback': {'enabled': True, 'key': '5'},
                                'music': {'kind': 'url', 'url': 'https://example.com/hold.mp3'}},
                      'next': {}},
        }})
        closed = flow.simulate('draft', [], hours='closed')
        self.assertEqual(closed['path'], ['hours', 'closed'])
        self.assertEqual(closed['end'], 'missed')
        self.assertIn('We are closed', closed['steps'][-1]['said'] + closed['steps'][-2]['said'])
        waiting = flow.simulate('draft', ['busy'], hours='open')
        self.assertEqual(waiting['path'], ['hours', 'sales'])
        self.assertEqual(waiting['waiting'], {'state': 'sales', 'kind': 'queue', 'options': ['5', '']})
        queued = next(step for step in waiting['steps'] if step['event'] == 'queued')
        self.assertIn('You are number 1 in the queue.', queued['said'])
        called_back = flow.simulate('draft', ['busy', '5'], hours='open')
        self.assertEqual(called_back['end'], 'callback')
        self.assertEqual(called_back['steps'][-1]['event'], 'callback')
        # Waiting on through both loops of the music, the caller leaves the queue: timeout.
        left = flow.simulate('draft', ['busy', '', ''], hours='open')
        self.assertEqual(left['end'], 'missed')
        self.assertEqual([step['event'] for step in left['steps'] if step['state'] == 'sales'],
                         ['entered', 'queued', 'timeout'])
