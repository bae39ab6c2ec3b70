"""The call-flow engine over plain data: validation, description and the TwiML of every path.

No database: a fake CallContext stands for the Odoo layer, and the TwiML is read back with
xml.etree the way Twilio reads it.
"""
import copy
import json
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlencode, urlparse

from odoo.tests import BaseCase

from ..tools import twiml
from ..tools.flow import definition, description, runtime, validation

BASE = 'https://odoo.test/telephony/twilio/'


def contract_flow():
    """The example of docs/contracts.md, extended with a parallel group ("team")."""
    return {
        'start': 'welcome',
        'states': {
            'welcome': {'type': 'announce', 'name': 'Welcome',
                        'message': {'kind': 'text', 'text': 'Thanks for calling',
                                    'language': 'en-US'},
                        'next': {'next': 'menu'}, 'position': [120, 80]},
            'menu': {'type': 'ivr', 'name': 'Main menu',
                     'message': {'kind': 'url', 'url': 'https://example.com/menu.wav'},
                     'next': {'1': 'sales', '2': 'support', '3': 'team', '*': 'vm',
                              'timeout': 'vm'}},
            'sales': {'type': 'transfer_user', 'name': 'Sales', 'user_id': 7, 'record': True,
                      'ring_timeout': 20,
                      'queue': {'enabled': True, 'max_calls': 5,
                                'notify': {'kind': 'text', 'text': 'Please hold'},
                                'music': {'kind': 'url', 'url': 'https://example.com/hold.mp3'},
                                'music_loops': 3},
                      'next': {'timeout': 'vm', 'unavailable': 'vm', 'busy': 'vm'}},
            'support': {'type': 'transfer_group', 'name': 'Support', 'group_id': 3,
                        'ring_strategy': 'sequential', 'ring_timeout': 30, 'user_timeout': 15,
                        'record': False, 'queue': {'enabled': False},
                        'next': {'timeout': 'vm', 'busy': 'bye', 'unavailable': 'bye'}},
            'team': {'type': 'transfer_group', 'name': 'Team', 'group_id': 4,
                     'ring_strategy': 'parallel', 'ring_timeout': 25,
                     'queue': {'enabled': True, 'max_calls': 2,
                               'music': {'kind': 'file', 'attachment_id': 43}},
                     'next': {'timeout': 'vm'}},
            'vm': {'type': 'voicemail', 'name': 'Voicemail',
                   'message': {'kind': 'file', 'attachment_id': 42},
                   'timeout': 10, 'max_length': 120, 'next': {'timeout': 'bye'}},
            'bye': {'type': 'announce', 'message': {'kind': 'text', 'text': 'Goodbye'},
                    'next': {}},
        },
    }


def announce(name, next_state=None):
    return {'type': 'announce', 'name': name, 'message': {'kind': 'text', 'text': name},
            'next': {'next': next_state} if next_state else {}}


class FakeCall:
    """The CallContext of one call, with the users' statuses and the queues as plain dicts."""

    def __init__(self, statuses=None, groups=None, queue_sizes=None, clock=1000.0,
                 company_language='en-US', translations=None):
        self.statuses = statuses or {}
        self.groups = groups or {}
        self.queue_sizes = queue_sizes or {}
        self.clock = clock
        self.company_language = company_language
        self.translations = translations or {}   # <Say language> → {source: translation}

    def url(self, action, **params):
        return BASE + action + ('?' + urlencode(sorted(params.items())) if params else '')

    def user_status(self, user_id):
        return self.statuses.get(user_id, 'offline')

    def client_identity(self, user_id):
        return 'user-%s' % user_id

    def group_members(self, group_id):
        return self.groups.get(group_id, [])

    def queue_name(self, kind, record_id):
        return '%s-%s' % (kind, record_id)

    def queue_size(self, queue_name):
        return self.queue_sizes.get(queue_name, 0)

    def audio_url(self, message):
        return 'https://odoo.test/telephony/audio/%s' % message['attachment_id']

    def time_limit(self):
        return None

    def recording_callback_url(self):
        return BASE + 'recording'

    def client_status_callback_url(self, user_id):
        return BASE + 'status?user=%s' % user_id

    def client_parameters(self):
        return getattr(self, 'parameters', {})

    def now(self):
        return self.clock

    def language(self, requested=None):
        return requested or self.company_language

    def translate(self, text, language):
        return self.translations.get(language, {}).get(text, text)


def parse(twiml):
    root = ET.fromstring(twiml)
    assert root.tag == 'Response', twiml
    return root


def tags(element):
    return [child.tag for child in element]


def route(url):
    """(action, query params) of one of our action URLs."""
    parsed = urlparse(url)
    assert parsed.path.startswith('/telephony/twilio/'), url
    return parsed.path.rsplit('/', 1)[1], dict(parse_qsl(parsed.query))


class TestValidation(BaseCase):

    def assertProblem(self, definition, *fragments, count=1, **kwargs):
        """Exactly ``count`` problems, one of which contains every fragment."""
        problems = validation.validate_definition(definition, **kwargs)
        self.assertEqual(len(problems), count, problems)
        self.assertTrue(any(all(fragment in problem for fragment in fragments)
                            for problem in problems), problems)
        return problems

    def test_valid_flow(self):
        self.assertEqual(validation.validate_definition(contract_flow()), [])
        self.assertEqual(validation.validate_definition(json.dumps(contract_flow())), [])
        self.assertEqual(validation.validate_definition(
            contract_flow(), users={7}, groups={3: 'Support', 4: 'Team'}), [])

    def test_bad_json(self):
        self.assertProblem('{"start": "a", "states": {', 'not valid JSON')

    def test_not_an_object(self):
        self.assertProblem('[1, 2]', '"states"')
        self.assertProblem({'start': 'a'}, '"states"')

    def test_start_missing(self):
        flow = contract_flow()
        del flow['start']
        self.assertProblem(flow, 'no start')

    def test_start_names_no_state(self):
        flow = contract_flow()
        flow['start'] = 'nowhere'
        # "welcome" is then unreachable, which is allowed in a draft.
        self.assertProblem(flow, 'start', '"nowhere"', 'not a state')

    def test_connection_target_missing(self):
        flow = contract_flow()
        flow['states']['menu']['next']['2'] = 'gone'
        self.assertProblem(flow, '"Main menu"', 'key 2', '"gone"', 'not a state')

    def test_events_valid_for_the_type(self):
        cases = [
            ('welcome', 'timeout', '"Welcome"'),
            ('menu', '#', '"Main menu"'),
            ('sales', 'next', '"Sales"'),
            ('vm', 'busy', '"Voicemail"'),
        ]
        for state_id, event, label in cases:
            with self.subTest(state=state_id, event=event):
                flow = contract_flow()
                flow['states'][state_id]['next'][event] = 'bye'
                self.assertProblem(flow, label, 'cannot have', event)

    def menu_flow(self, keys):
        """A menu whose every key leads to a state of its own."""
        states = {'menu': {'type': 'ivr', 'name': 'Main menu',
                           'message': {'kind': 'text', 'text': 'Choose'},
                           'next': {key: 'to %s' % key for key in keys}}}
        states.update(('to %s' % key, announce('To %s' % key)) for key in keys)
        return {'start': 'menu', 'states': states}

    def test_twelve_ivr_keys(self):
        flow = self.menu_flow(definition.IVR_KEYS + ('#', 'timeout'))
        problems = self.assertProblem(flow, '"Main menu"', '12 menu keys', count=2)
        self.assertTrue(any('cannot have a "#"' in problem for problem in problems), problems)

    def test_eleven_ivr_keys_allowed(self):
        flow = self.menu_flow(definition.IVR_KEYS + ('timeout',))
        self.assertEqual(validation.validate_definition(flow), [])

    def test_incoming_connections_limit_counts_the_start(self):
        states = {'hub': announce('Hub')}
        states.update(('s%s' % index, announce('S%s' % index, 'hub')) for index in range(9))
        flow = {'start': 'hub', 'states': states}
        # Nine connections and the start: ten, the limit.
        self.assertEqual(validation.validate_definition(flow), [])
        states['s9'] = announce('S9', 'hub')
        self.assertProblem(flow, '"Hub"', '11 incoming')
        flow['start'] = 's0'
        self.assertEqual(validation.validate_definition(flow), [])

    def test_self_loop(self):
        flow = contract_flow()
        flow['states']['menu']['next']['9'] = 'menu'
        self.assertProblem(flow, 'loops', 'Main menu → Main menu')

    def test_loop_through_three_states_reported_once(self):
        flow = {'start': 'a', 'states': {
            'a': {'type': 'ivr', 'name': 'Main menu', 'message': {'kind': 'text', 'text': 'Hi'},
                  'next': {'1': 'b', '2': 'b'}},
            'b': announce('Sales', 'c'),
            'c': {'type': 'ivr', 'name': 'Support', 'message': {'kind': 'text', 'text': 'Hi'},
                  'next': {'1': 'a', '2': 'a', 'timeout': 'a'}},
        }}
        self.assertProblem(flow, 'Main menu → Sales → Support → Main menu')

    def test_two_separate_loops(self):
        flow = {'start': 'a', 'states': {
            'a': announce('A', 'b'), 'b': announce('B', 'a'),
            'c': announce('C', 'c'),
        }}
        problems = validation.validate_definition(flow)
        self.assertEqual(problems, [
            'The call flow loops: A → B → A. A call may not come back to a state it has passed; '
            'remove one of these connections.',
            'The call flow loops: C → C. A call may not come back to a state it has passed; '
            'remove one of these connections.',
        ])

    def test_voicemail_max_length(self):
        for max_length in (121, 0, -5):
            with self.subTest(max_length=max_length):
                flow = contract_flow()
                flow['states']['vm']['max_length'] = max_length
                self.assertProblem(flow, '"Voicemail"', 'maximum message length', '1 to 120',
                                   str(max_length))

    def test_numeric_settings_in_range(self):
        cases = [
            (('sales', 'ring_timeout'), 4, 'ring timeout'),
            (('sales', 'ring_timeout'), 121, 'ring timeout'),
            (('sales', 'ring_timeout'), '20', 'ring timeout'),
            (('support', 'user_timeout'), 4, 'ringing time per member'),
            (('support', 'user_timeout'), 121, 'ringing time per member'),
            (('sales', 'queue', 'max_calls'), 0, 'maximum number of calls'),
            (('sales', 'queue', 'max_calls'), 51, 'maximum number of calls'),
            (('sales', 'queue', 'music_loops'), 21, 'hold music plays'),
            (('sales', 'queue', 'music_loops'), 0, 'hold music plays'),
            (('vm', 'timeout'), 61, 'silence timeout'),
            (('vm', 'timeout'), 0, 'silence timeout'),
        ]
        for path, value, fragment in cases:
            with self.subTest(path=path, value=value):
                flow = contract_flow()
                settings = flow['states']
                for key in path[:-1]:
                    settings = settings[key]
                settings[path[-1]] = value
                self.assertProblem(flow, fragment, 'must be a whole number')

    def test_user_timeout_not_longer_than_ring_timeout(self):
        flow = contract_flow()
        flow['states']['support']['user_timeout'] = 40
        self.assertProblem(flow, '"Support"', '(40 s)', 'ring timeout (30 s)')

    def test_settings_that_do_not_apply_are_not_checked(self):
        flow = contract_flow()
        # A parallel group rings everybody for the ring timeout: no time per member.
        flow['states']['team']['user_timeout'] = 400
        # A disabled queue keeps its settings without using them.
        flow['states']['support']['queue'] = {'enabled': False, 'max_calls': 0}
        self.assertEqual(validation.validate_definition(flow), [])

    def test_users_and_groups_exist_in_the_company(self):
        self.assertProblem(contract_flow(), '"Sales"', 'user #7', users={8}, groups={3, 4})
        self.assertProblem(contract_flow(), '"Team"', 'group #4', users={7}, groups={3})
        flow = contract_flow()
        del flow['states']['sales']['user_id']
        flow['states']['support']['group_id'] = False
        problems = validation.validate_definition(flow)
        self.assertEqual(len(problems), 2, problems)
        self.assertIn('choose the user', problems[0])
        self.assertIn('choose the group', problems[1])

    def test_ring_strategy(self):
        flow = contract_flow()
        flow['states']['team']['ring_strategy'] = 'random'
        self.assertProblem(flow, '"Team"', 'ring type', '"random"')

    def test_messages_well_formed(self):
        cases = [
            (('welcome', 'message'), {'kind': 'text', 'text': '  '}, 'no text to read'),
            (('menu', 'message'), {'kind': 'url', 'url': 'ftp://example.com/a.wav'}, 'https://'),
            (('menu', 'message'), {'kind': 'url'}, 'https://'),
            (('vm', 'message'), {'kind': 'file'}, 'uploaded audio file'),
            (('vm', 'message'), {'kind': 'tts'}, 'text to read, an audio file or an audio URL'),
            (('welcome', 'message'), None, 'message is missing'),
            (('sales', 'queue', 'notify'), {'kind': 'text'}, 'caller notification'),
            (('sales', 'queue', 'music'), {'kind': 'text', 'text': 'La la'},
             'hold music must be an audio file or an audio URL'),
            (('sales', 'queue', 'music'), None, 'hold music is missing'),
        ]
        for path, message, fragment in cases:
            with self.subTest(path=path, message=message):
                flow = contract_flow()
                settings = flow['states']
                for key in path[:-1]:
                    settings = settings[key]
                settings[path[-1]] = message
                self.assertProblem(flow, fragment)

    def test_unknown_state_type(self):
        flow = contract_flow()
        flow['states']['bye']['type'] = 'fax'
        self.assertProblem(flow, '"bye"', 'unknown type "fax"')

    def test_several_problems_at_once(self):
        flow = contract_flow()
        flow['start'] = 'nowhere'
        flow['states']['menu']['next']['#'] = 'vm'
        flow['states']['sales']['ring_timeout'] = 1
        flow['states']['vm']['max_length'] = 300
        flow['states']['bye']['next'] = {'next': 'welcome'}
        problems = validation.validate_definition(flow, users={7}, groups={3})
        self.assertEqual(len(problems), 6, problems)
        for fragment in ('"nowhere"', 'a "#" connection', 'ring timeout', 'maximum message length',
                         'group #4', 'Welcome → Main menu → Sales → Voicemail → bye → Welcome'):
            self.assertTrue(any(fragment in problem for problem in problems), (fragment, problems))

    def test_translation_hook(self):
        problems = validation.validate_definition('{', _=lambda text: '[fr] ' + text)
        self.assertTrue(problems[0].startswith('[fr] The call flow is not valid JSON'), problems)


class TestDescription(BaseCase):

    def test_order_and_lines(self):
        flow = contract_flow()
        flow['states']['orphan'] = announce('Orphan')
        entries = description.describe_definition(
            flow, users={7: 'Alice'}, groups={3: 'Support team'})
        self.assertEqual([entry['id'] for entry in entries],
                         ['welcome', 'menu', 'sales', 'support', 'team', 'vm', 'bye', 'orphan'])
        by_id = {entry['id']: entry for entry in entries}
        self.assertEqual(by_id['welcome']['settings'],
                         ['Message: “Thanks for calling” read aloud (en-US)'])
        self.assertEqual(by_id['welcome']['connections'], ['Welcome —next→ Main menu'])
        self.assertEqual(by_id['menu']['type_label'], 'IVR menu')
        self.assertEqual(by_id['menu']['connections'], [
            'Main menu —1→ Sales', 'Main menu —2→ Support', 'Main menu —3→ Team',
            'Main menu —*→ Voicemail', 'Main menu —timeout→ Voicemail'])
        self.assertEqual(by_id['sales']['settings'], [
            'User: Alice', 'Ring timeout: 20 s', 'Recording: on',
            'Queue: up to 5 calls, hold music played 3 times',
            'Caller notification: “Please hold” read aloud',
            'Hold music: audio https://example.com/hold.mp3'])
        self.assertEqual(by_id['sales']['connections'], [
            'Sales —timeout→ Voicemail', 'Sales —unavailable→ Voicemail',
            'Sales —busy→ Voicemail'])
        self.assertEqual(by_id['support']['settings'], [
            'Group: Support team', 'Ring type: sequential, 15 s per member',
            'Ring timeout: 30 s', 'Recording: off', 'Queue: off'])
        self.assertEqual(by_id['team']['settings'][:2], ['Group: #4', 'Ring type: parallel'])
        self.assertIn('Caller notification: off', by_id['team']['settings'])
        self.assertEqual(by_id['vm']['type_label'], 'Voicemail')
        self.assertEqual(by_id['vm']['settings'], [
            'Prompt: audio file #42', 'Silence timeout: 10 s', 'Maximum message length: 120 s'])
        self.assertEqual(by_id['bye']['name'], 'bye')
        self.assertEqual(by_id['bye']['connections'], [])

    def test_order_does_not_depend_on_the_json(self):
        """A published copy stored with sorted keys reads like its draft, side by side."""
        flow = contract_flow()
        menu = flow['states']['menu']
        menu['next'] = dict(reversed(list(menu['next'].items())))
        resorted = json.loads(json.dumps(contract_flow(), sort_keys=True))
        self.assertEqual(description.describe_definition(flow), description.describe_definition(resorted))
        self.assertEqual(
            [line.split('—')[1] for line in description.describe_definition(resorted)[1]['connections']],
            ['1→ Sales', '2→ Support', '3→ Team', '*→ Voicemail', 'timeout→ Voicemail'])

    def test_unreadable_definition(self):
        self.assertEqual(description.describe_definition('{not json'), [])
        self.assertEqual(description.describe_definition({'states': 'none'}), [])


class EngineCase(BaseCase):
    """Runtime helpers: a fake call with Alice (7) free, groups 3 (sequential) and 4 (parallel)."""

    def setUp(self):
        super().setUp()
        self.flow = contract_flow()
        self.ctx = FakeCall(
            statuses={7: 'available', 11: 'available', 12: 'offline', 13: 'available',
                      21: 'offline', 22: 'available', 23: 'busy', 24: 'available'},
            groups={3: [21, 22, 23, 24], 4: [11, 12, 13]},
        )

    def follow(self, url, **twilio_params):
        """Request one of our action URLs as Twilio does: its query string plus Twilio's form."""
        action, params = route(url)
        return getattr(runtime, 'answer_' + action)(self.flow, dict(params, **twilio_params), self.ctx)

    def assertRoute(self, url, action, **params):
        self.assertEqual(route(url), (action, {key: str(value) for key, value in params.items()}))

    def assertVoicemail(self, verbs):
        """``verbs`` are the voicemail state's: prompt, Record, Redirect on silence."""
        self.assertEqual(tags(verbs), ['Play', 'Record', 'Redirect'])
        self.assertEqual(verbs[0].text, 'https://odoo.test/telephony/audio/42')

    def assertGoodbye(self, step, outcome='missed'):
        root = parse(step.twiml)
        self.assertEqual(tags(root)[-2:], ['Say', 'Hangup'])
        self.assertEqual(root[-2].text, 'Thank you for calling. Goodbye.')
        self.assertEqual(step.outcome, outcome)

    def events(self, step):
        return [(entry.state_id, entry.event) for entry in step.log]


class TestAnnounceAndIvr(EngineCase):

    def test_start_chains_announce_into_the_menu(self):
        step = runtime.start(self.flow, self.ctx)
        root = parse(step.twiml)
        self.assertEqual(tags(root), ['Say', 'Gather', 'Redirect'])
        self.assertEqual(root[0].text, 'Thanks for calling')
        self.assertEqual(root[0].get('language'), 'en-US')
        gather = root[1]
        self.assertEqual((gather.get('numDigits'), gather.get('timeout')), ('1', '5'))
        self.assertRoute(gather.get('action'), 'gather', state='menu')
        self.assertEqual(tags(gather), ['Play'])
        self.assertEqual(gather[0].text, 'https://example.com/menu.wav')
        self.assertRoute(root[2].text, 'event', state='menu', event='timeout')
        self.assertEqual(step.log, [('welcome', 'Welcome', 'entered'),
                                    ('welcome', 'Welcome', 'next'),
                                    ('menu', 'Main menu', 'entered')])
        self.assertIsNone(step.outcome)

    def test_announce_without_next_says_goodbye(self):
        self.flow['start'] = 'bye'
        step = runtime.start(self.flow, self.ctx)
        self.assertEqual(tags(parse(step.twiml)), ['Say', 'Say', 'Hangup'])
        self.assertGoodbye(step)

    def test_each_key_leads_to_its_state(self):
        expected = {'1': 'Dial', '2': 'Dial', '3': 'Dial', '*': 'Play'}
        for key, first_verb in expected.items():
            with self.subTest(key=key):
                step = self.follow(BASE + 'gather?state=menu', Digits=key)
                self.assertEqual(tags(parse(step.twiml))[0], first_verb)
                self.assertEqual(step.log[0], ('menu', 'Main menu', key))
                self.assertEqual(step.log[1].state_id, self.flow['states']['menu']['next'][key])

    def test_no_key_is_the_timeout(self):
        start = parse(runtime.start(self.flow, self.ctx).twiml)
        step = self.follow(start[2].text)  # Twilio falls through to the Redirect
        self.assertVoicemail(parse(step.twiml))
        self.assertEqual(self.events(step)[:2], [('menu', 'timeout'), ('vm', 'entered')])
        # The same when Twilio posts an empty result.
        step = self.follow(BASE + 'gather?state=menu', Digits='')
        self.assertVoicemail(parse(step.twiml))

    def test_invalid_key_replays_the_menu_three_times_then_times_out(self):
        url = BASE + 'gather?state=menu'
        for attempt in (1, 2, 3):
            step = self.follow(url, Digits='9')
            root = parse(step.twiml)
            self.assertEqual(tags(root), ['Say', 'Gather', 'Redirect'])
            self.assertEqual(root[0].text, 'Sorry, that is not a valid option.')
            self.assertRoute(root[1].get('action'), 'gather', state='menu', invalid=attempt)
            self.assertEqual(step.log, [('menu', 'Main menu', 'invalid_key')])
            url = root[1].get('action')
        step = self.follow(url, Digits='9')
        root = parse(step.twiml)
        self.assertEqual(root[0].text, 'Sorry, that is not a valid option.')
        self.assertVoicemail(root[1:])
        self.assertEqual(self.events(step)[:2], [('menu', 'invalid_key'), ('menu', 'timeout')])

    def test_timeout_without_connection_ends_politely(self):
        del self.flow['states']['menu']['next']['timeout']
        step = self.follow(BASE + 'event?event=timeout&state=menu')
        self.assertGoodbye(step)


class TestTransferUser(EngineCase):

    def test_free_user_is_rung(self):
        step = self.follow(BASE + 'gather?state=menu', Digits='1')
        dial = parse(step.twiml)[0]
        self.assertEqual(dial.get('timeout'), '20')
        self.assertEqual(dial.get('record'), 'record-from-answer-dual')
        self.assertEqual(dial.get('recordingStatusCallback'), BASE + 'recording')
        self.assertEqual(dial.get('recordingStatusCallbackEvent'), 'completed')
        self.assertRoute(dial.get('action'), 'dial', state='sales')
        client = dial[0]
        self.assertEqual((client.tag, client.text), ('Client', 'user-7'))
        self.assertEqual(client.get('statusCallback'), BASE + 'status?user=7')
        self.assertEqual(client.get('statusCallbackEvent'), 'ringing answered completed')
        self.assertEqual(step.user_ids, [7])

    def test_rung_client_carries_who_is_calling(self):
        self.ctx.parameters = {'call_id': '5', 'caller_name': 'Carla', 'partner_id': '3', 'lead_id': '0'}
        step = self.follow(BASE + 'gather?state=menu', Digits='1')
        client = parse(step.twiml)[0][0]
        self.assertEqual(client.findtext('Identity'), 'user-7')
        self.assertEqual([(p.get('name'), p.get('value')) for p in client.findall('Parameter')],
                         [('call_id', '5'), ('caller_name', 'Carla'), ('partner_id', '3'), ('lead_id', '0')])
        self.assertEqual(client.get('statusCallback'), BASE + 'status?user=7')
        self.assertEqual(step.log[-1], ('sales', 'Sales', 'ringing'))

    def test_no_recording_attributes_when_off(self):
        self.flow['states']['sales']['record'] = False
        dial = parse(self.follow(BASE + 'gather?state=menu', Digits='1').twiml)[0]
        self.assertIsNone(dial.get('record'))
        self.assertIsNone(dial.get('recordingStatusCallback'))

    def test_dial_answered_hangs_up_when_done(self):
        for status in ('completed', 'answered'):
            step = self.follow(BASE + 'dial?state=sales', DialCallStatus=status)
            self.assertEqual(tags(parse(step.twiml)), ['Hangup'])
            self.assertEqual(step.outcome, 'completed')
            self.assertEqual(step.log, [('sales', 'Sales', 'answered')])

    def test_dial_not_answered(self):
        for status, event in (('no-answer', 'timeout'), ('failed', 'timeout'),
                              ('canceled', 'timeout'), ('busy', 'busy')):
            with self.subTest(status=status):
                step = self.follow(BASE + 'dial?state=sales', DialCallStatus=status)
                self.assertVoicemail(parse(step.twiml))
                self.assertEqual(self.events(step)[0], ('sales', event))

    def test_offline_user_is_unavailable(self):
        self.ctx.statuses[7] = 'offline'
        step = self.follow(BASE + 'gather?state=menu', Digits='1')
        self.assertVoicemail(parse(step.twiml))
        self.assertIn(('sales', 'unavailable'), self.events(step))
        self.assertEqual(step.user_ids, [])

    def test_busy_user_with_room_in_the_queue(self):
        self.ctx.statuses[7] = 'busy'
        self.ctx.queue_sizes['user-7'] = 4
        step = self.follow(BASE + 'gather?state=menu', Digits='1')
        root = parse(step.twiml)
        self.assertEqual(tags(root), ['Enqueue'])
        self.assertEqual(root[0].text, 'user-7')
        self.assertRoute(root[0].get('waitUrl'), 'queue_wait', state='sales')
        self.assertRoute(root[0].get('action'), 'queue_result', state='sales')
        self.assertEqual(step.log[-1], ('sales', 'Sales', 'queued'))

    def test_busy_user_with_full_queue(self):
        self.ctx.statuses[7] = 'busy'
        self.ctx.queue_sizes['user-7'] = 5
        step = self.follow(BASE + 'gather?state=menu', Digits='1')
        self.assertVoicemail(parse(step.twiml))
        self.assertIn(('sales', 'busy'), self.events(step))

    def test_busy_user_without_queue(self):
        self.ctx.statuses[7] = 'busy'
        self.flow['states']['sales']['queue']['enabled'] = False
        step = self.follow(BASE + 'gather?state=menu', Digits='1')
        self.assertVoicemail(parse(step.twiml))
        self.assertIn(('sales', 'busy'), self.events(step))


class TestQueue(EngineCase):

    def test_wait_music_with_text_notification(self):
        step = self.follow(BASE + 'queue_wait?state=sales')
        root = parse(step.twiml)
        self.assertEqual(tags(root), ['Say', 'Play', 'Leave'])
        self.assertEqual(root[0].text, 'Please hold')
        self.assertEqual((root[1].text, root[1].get('loop')), ('https://example.com/hold.mp3', '3'))

    def test_wait_music_from_a_file_without_notification(self):
        root = parse(self.follow(BASE + 'queue_wait?state=team').twiml)
        self.assertEqual(tags(root), ['Play', 'Leave'])
        self.assertEqual(root[0].text, 'https://odoo.test/telephony/audio/43')
        self.assertEqual(root[0].get('loop'), str(definition.DEFAULTS['music_loops']))

    def test_queue_results(self):
        cases = [('leave', 'timeout'), ('error', 'timeout'), ('queue-full', 'busy')]
        for result, event in cases:
            with self.subTest(result=result):
                step = self.follow(BASE + 'queue_result?state=sales', QueueResult=result)
                self.assertVoicemail(parse(step.twiml))
                self.assertEqual(self.events(step)[0], ('sales', event))
        step = self.follow(BASE + 'queue_result?state=sales', QueueResult='redirected')
        self.assertEqual((tags(parse(step.twiml)), step.log, step.outcome), ([], [], None),
                         "the call already runs the TwiML it was redirected to")
        for result, outcome in (('bridged', 'completed'), ('hangup', 'missed')):
            with self.subTest(result=result):
                step = self.follow(BASE + 'queue_result?state=sales', QueueResult=result)
                self.assertEqual(tags(parse(step.twiml)), ['Hangup'])
                self.assertEqual(step.outcome, outcome)


    def test_dequeued_caller_rings_the_freed_user(self):
        step = self.follow(BASE + 'connect?state=team&user=13')
        dial = parse(step.twiml)[0]
        self.assertEqual((dial.tag, dial.get('timeout')), ('Dial', '25'))
        self.assertEqual([client.text for client in dial], ['user-13'])
        self.assertRoute(dial.get('action'), 'dial', state='team')
        self.assertEqual(self.events(step), [('team', 'dequeued'), ('team', 'ringing')])
        self.assertEqual(step.user_ids, [13])
        # The freed user does not answer: the state's timeout, as for any ring.
        step = self.follow(dial.get('action'), DialCallStatus='no-answer')
        self.assertVoicemail(parse(step.twiml))


class TestTransferGroup(EngineCase):

    def test_parallel_rings_every_free_member_at_once(self):
        step = self.follow(BASE + 'gather?state=menu', Digits='3')
        root = parse(step.twiml)
        self.assertEqual(tags(root), ['Dial'])
        dial = root[0]
        self.assertEqual(dial.get('timeout'), '25')
        self.assertIsNone(dial.get('record'))
        self.assertRoute(dial.get('action'), 'dial', state='team')
        self.assertEqual([client.text for client in dial], ['user-11', 'user-13'])
        self.assertEqual(step.user_ids, [11, 13])

    def test_parallel_someone_answers(self):
        step = self.follow(BASE + 'dial?state=team', DialCallStatus='completed')
        self.assertEqual(step.outcome, 'completed')

    def test_parallel_nobody_answers(self):
        step = self.follow(BASE + 'dial?state=team', DialCallStatus='no-answer')
        self.assertVoicemail(parse(step.twiml))
        self.assertEqual(self.events(step)[0], ('team', 'timeout'))

    def test_members_busy_queue_the_call(self):
        self.ctx.statuses.update({11: 'busy', 13: 'offline'})
        root = parse(self.follow(BASE + 'gather?state=menu', Digits='3').twiml)
        self.assertEqual(tags(root), ['Enqueue'])
        self.assertEqual(root[0].text, 'group-4')
        self.ctx.queue_sizes['group-4'] = 2
        step = self.follow(BASE + 'gather?state=menu', Digits='3')
        # The queue is full and "busy" has no connection: the call ends.
        self.assertIn(('team', 'busy'), self.events(step))
        self.assertGoodbye(step, 'busy')

    def test_all_members_offline_is_unavailable(self):
        self.ctx.statuses.update({11: 'offline', 13: 'offline'})
        step = self.follow(BASE + 'gather?state=menu', Digits='3')
        self.assertIn(('team', 'unavailable'), self.events(step))
        self.assertGoodbye(step)

    def test_empty_group_is_unavailable(self):
        self.ctx.groups[4] = []
        step = self.follow(BASE + 'gather?state=menu', Digits='3')
        self.assertIn(('team', 'unavailable'), self.events(step))

    def test_sequential_without_free_member_and_no_queue_is_busy(self):
        self.ctx.statuses.update({22: 'offline', 24: 'busy'})
        step = self.follow(BASE + 'gather?state=menu', Digits='2')
        self.assertIn(('support', 'busy'), self.events(step))
        self.assertEqual(self.events(step)[-2:], [('bye', 'entered'), ('bye', 'next')])

    def dial_support(self):
        """Press 2: the sequential group rings its first free member in sign-in order."""
        step = self.follow(BASE + 'gather?state=menu', Digits='2')
        root = parse(step.twiml)
        self.assertEqual(tags(root), ['Dial'])
        return step, root[0]

    def test_sequential_skips_offline_then_rings_one_at_a_time(self):
        step, dial = self.dial_support()
        # 21 is offline: 22 first, for the time per member.
        self.assertEqual([client.text for client in dial], ['user-22'])
        self.assertEqual(dial.get('timeout'), '15')
        self.assertRoute(dial.get('action'), 'dial', state='support', tried='22', started=1000)
        self.assertEqual(step.user_ids, [22])

        # No answer after 16 s: 23 is busy, so 24, for what is left of the 30 s.
        self.ctx.clock = 1016
        step = self.follow(dial.get('action'), DialCallStatus='no-answer')
        dial = parse(step.twiml)[0]
        self.assertEqual([client.text for client in dial], ['user-24'])
        self.assertEqual(dial.get('timeout'), '14')
        self.assertRoute(dial.get('action'), 'dial', state='support', tried='22,24', started=1000)

        # 24 answers.
        self.ctx.clock = 1020
        step = self.follow(dial.get('action'), DialCallStatus='completed')
        self.assertEqual(tags(parse(step.twiml)), ['Hangup'])
        self.assertEqual(step.outcome, 'completed')

    def test_sequential_nobody_answers(self):
        _step, dial = self.dial_support()
        self.ctx.clock = 1015
        dial = parse(self.follow(dial.get('action'), DialCallStatus='busy').twiml)[0]
        self.ctx.clock = 1029
        step = self.follow(dial.get('action'), DialCallStatus='no-answer')
        # Members ran out before the ring timeout.
        self.assertVoicemail(parse(step.twiml))
        self.assertEqual(self.events(step)[0], ('support', 'timeout'))

    def test_sequential_ring_timeout_exhausted(self):
        _step, dial = self.dial_support()
        self.ctx.clock = 1026  # 4 s left: less than Twilio rings
        step = self.follow(dial.get('action'), DialCallStatus='no-answer')
        self.assertVoicemail(parse(step.twiml))
        self.assertEqual(self.events(step)[0], ('support', 'timeout'))

    def test_sequential_member_who_went_offline_is_skipped(self):
        _step, dial = self.dial_support()
        self.ctx.statuses.update({24: 'offline', 21: 'available'})
        self.ctx.clock = 1015
        dial = parse(self.follow(dial.get('action'), DialCallStatus='no-answer').twiml)[0]
        # 21 signed in meanwhile; 24 left.
        self.assertEqual([client.text for client in dial], ['user-21'])


class TestVoicemail(EngineCase):

    def test_prompt_and_record(self):
        step = self.follow(BASE + 'gather?state=menu', Digits='*')
        root = parse(step.twiml)
        self.assertVoicemail(root)
        record = root[1]
        self.assertEqual((record.get('maxLength'), record.get('timeout'), record.get('playBeep')),
                         ('120', '10', 'true'))
        self.assertRoute(record.get('action'), 'record', state='vm')
        self.assertEqual(record.get('recordingStatusCallback'), BASE + 'recording')
        self.assertEqual(record.get('recordingStatusCallbackEvent'), 'completed')
        self.assertRoute(root[2].text, 'event', state='vm', event='timeout')

    def test_message_left(self):
        step = self.follow(BASE + 'record?state=vm', RecordingDuration='14',
                           RecordingUrl='https://api.twilio.com/rec/RE1')
        root = parse(step.twiml)
        self.assertEqual(tags(root), ['Say', 'Hangup'])
        self.assertEqual(step.outcome, 'voicemail')
        self.assertEqual(step.log, [('vm', 'Voicemail', 'voicemail')])

    def test_no_message_left(self):
        for duration in ('0', None):
            with self.subTest(duration=duration):
                params = {'RecordingDuration': duration} if duration else {}
                step = self.follow(BASE + 'record?state=vm', **params)
                self.assertEqual(self.events(step)[:2], [('vm', 'timeout'), ('bye', 'entered')])
                self.assertEqual(parse(step.twiml)[0].text, 'Goodbye')
                self.assertGoodbye(step)


class TestFailures(EngineCase):

    def test_apology_without_flow(self):
        root = parse(runtime.apology_twiml())
        self.assertEqual(tags(root), ['Say', 'Hangup'])
        self.assertEqual(root[0].text, 'We are sorry, something went wrong.')

    def test_apology_offers_voicemail(self):
        root = parse(runtime.apology_twiml(json.dumps(self.flow), self.ctx))
        self.assertEqual(tags(root)[0], 'Say')
        self.assertVoicemail(root[1:])

    def test_apology_without_voicemail_state(self):
        del self.flow['states']['vm']
        root = parse(runtime.apology_twiml(self.flow, self.ctx))
        self.assertEqual(tags(root), ['Say', 'Hangup'])

    def test_apology_when_the_context_fails_too(self):
        def broken(message):
            raise RuntimeError('database gone')
        self.ctx.audio_url = broken
        with self.assertLogs(runtime.__name__, 'ERROR'):
            root = parse(runtime.apology_twiml(self.flow, self.ctx))
        self.assertEqual(tags(root), ['Say', 'Hangup'])

    def test_reject(self):
        self.assertEqual(parse(twiml.reject())[0].attrib, {'reason': 'rejected'})
        self.assertEqual(parse(twiml.reject('busy'))[0].attrib, {'reason': 'busy'})

    def test_bad_webhooks_raise_flow_error(self):
        cases = [
            ('gather', {'Digits': '1'}),                          # no state
            ('gather', {'state': 'ghost', 'Digits': '1'}),        # unknown state
            ('connect', {'state': 'sales'}),                      # no user to connect
            ('dial', {'state': 'support', 'started': 'soon'}),    # malformed parameter
        ]
        for action, params in cases:
            with self.subTest(action=action, params=params), \
                    self.assertRaises(definition.FlowError):
                getattr(runtime, 'answer_' + action)(self.flow, params, self.ctx)
        with self.assertRaises(definition.FlowError):
            runtime.start('{broken', self.ctx)

    def test_unvalidated_loop_stops(self):
        flow = {'start': 'a', 'states': {'a': announce('A', 'b'), 'b': announce('B', 'a')}}
        with self.assertRaises(definition.FlowError):
            runtime.start(flow, self.ctx)

    def test_definition_is_not_modified(self):
        before = copy.deepcopy(self.flow)
        runtime.start(self.flow, self.ctx)
        self.follow(BASE + 'gather?state=menu', Digits='2')
        self.assertEqual(self.flow, before)
