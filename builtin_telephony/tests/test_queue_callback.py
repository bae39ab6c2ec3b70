"""Queue position and estimated wait between the hold music's loops, and "press 1 to be called
back" (B3), through real calls driven by tests/twilio_driver.py."""
import json

from odoo.tests import tagged

from ..tools.flow import description, validation
from .common import CALLER, DriverCase
MUSIC = ('play', 'https://example.com/hold.mp3')


@tagged('post_install', '-at_install')
class TestQueuePositionAndCallback(DriverCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        definition = cls.definition()
        for state in ('sales', 'team'):
            definition['states'][state]['queue'].update({
                'max_calls': 3, 'music_loops': 2, 'announce_position': True,
                'callback': {'enabled': True, 'key': '1'}})
        cls._publish_line('test-queue-callback', definition)
        (cls.alice | cls.bob | cls.carol).write({'availability': 'available'})
        cls.lead = cls.env['crm.lead'].create({'name': 'Carla wants a quote', 'phone': CALLER})

    def call_in(self, from_number=CALLER, key='1'):
        call = self.driver.incoming_call(from_number, self.number.phone_number)
        call.press(key)
        return call

    def _alice_on_a_call(self):
        first = self.call_in('+14155550111')
        first.answer(self.alice.client_identity)
        return first

    def test_position_and_wait_announced_between_the_loops(self):
        self._alice_on_a_call()
        self.driver.average_queue_time = 150
        ahead = self.call_in('+14155550122')
        call = self.call_in()
        self.assertEqual(call.waiting[0], 'queue')
        self.assertEqual(call.heard[-5:], [
            ('say', 'Please hold'),
            ('say', 'You are number 2 in the queue.'),
            ('say', 'The estimated wait is about 2 minutes.'),
            ('say', 'Press 1 to be called back instead of waiting.'), MUSIC])
        # The caller ahead hangs up: the next loop (a new waitUrl request) says so.
        ahead.hang_up()
        self.assertTrue(call.music_plays())
        self.assertEqual(call.heard[-4:], [
            ('say', 'You are number 1 in the queue.'),
            ('say', 'The estimated wait is about 2 minutes.'),
            ('say', 'Press 1 to be called back instead of waiting.'), MUSIC])
        # After the last loop the caller leaves the queue for the state's timeout connection.
        call.music_ends()
        self.assertEqual(call.waiting[0], 'record')
        self.assertEqual(call.heard.count(MUSIC), 2)

    def test_no_average_yet_means_no_estimate(self):
        self._alice_on_a_call()
        call = self.call_in()
        said = call.said
        self.assertIn('You are number 1 in the queue.', said)
        self.assertFalse([text for text in said if 'estimated wait' in text])

    def test_press_1_to_be_called_back(self):
        self._alice_on_a_call()
        call = self.call_in()
        self.assertTrue(self.record(call).queue_name)
        call.press_in_queue('1')
        self.assertTrue(call.ended)
        self.assertEqual(call.said[-1],
                         'Thank you. We will call you back as soon as possible. Goodbye.')
        record = self.record(call)
        self.assertEqual(record.status, 'callback')
        self.assertFalse(record.queue_name, "the caller left the queue")
        self.assertIn(('sales', 'callback'),
                      [(step.state_ref, step.event) for step in record.step_ids])
        self.assertIn('Asked to be called back instead of waiting',
                      record.step_ids.mapped('description'))
        activities = self.env['mail.activity'].search([
            ('res_model', '=', 'crm.lead'), ('res_id', '=', self.lead.id)])
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.user_id, self.alice.user_id, "the state's user calls back")
        self.assertEqual(activities.summary, 'Call back %s' % CALLER)
        self.assertEqual(activities.activity_type_id,
                         self.env.ref('builtin_telephony.mail_activity_type_call_back'))
        self.assertIn(CALLER, str(activities.note))
        self.assertIn('Carla wants a quote', str(activities.note))
        # The end of the call keeps its own status.
        self.assertEqual(call.final_status, 'completed')
        self.assertEqual(record.status, 'callback')

    def test_group_members_are_asked_to_call_back(self):
        # Alice and Bob (the Team) both on calls.
        first = self._alice_on_a_call()
        second = self.driver.incoming_call('+14155550133', self.number.phone_number)
        second.press('3')
        second.answer(self.bob.client_identity)
        call = self.driver.incoming_call('+14155550144', self.number.phone_number)
        call.press('3')
        self.assertEqual(call.waiting[0], 'queue')
        call.press_in_queue('1')
        record = self.record(call)
        self.assertEqual(record.status, 'callback')
        activities = self.env['mail.activity'].search([
            ('res_model', '=', 'telephony.call'), ('res_id', '=', record.id)])
        self.assertEqual(activities.user_id, (self.alice | self.bob).user_id)
        self.assertTrue(first and second)

    def test_another_key_keeps_the_music_playing(self):
        self._alice_on_a_call()
        call = self.call_in()
        call.press_in_queue('5')
        self.assertEqual(call.waiting[0], 'queue')
        self.assertEqual(call.heard[-1], MUSIC)
        self.assertEqual(self.record(call).status, 'in_progress')

    def test_validation_and_description(self):
        definition = json.loads(self.flow.definition)
        definition['states']['sales']['queue']['callback'] = {'enabled': True, 'key': '#'}
        definition['states']['sales']['queue']['announce_position'] = 'yes'
        problems = validation.validate_definition(definition)
        self.assertEqual(len(problems), 2, problems)
        self.assertIn('the announcement of the position in the queue must be true or false',
                      problems[0])
        self.assertIn('the call-back key must be one of 0 to 9 or *', problems[1])
        lines = {entry['id']: entry['settings']
                 for entry in description.describe_definition(self.flow.definition)}
        self.assertIn('Call-back: press 1 to be called back', lines['sales'])
        self.assertIn('Position and estimated wait announced between the loops',
                      lines['sales'])
