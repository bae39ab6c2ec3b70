"""What the visual builder asks of the server (F3): the vocabulary read from the engine, a
flow's data, its problems placed on their states, saving the draft — also through XML-RPC."""
import json
import xmlrpc.client

from odoo.tests import HttpCase, tagged

from ..tools.flow import definition as flow_definition
from .test_flow_definition import FlowCase


@tagged('post_install', '-at_install')
class TestFlowBuilderServer(FlowCase):

    def test_schema_is_the_engines_vocabulary(self):
        schema = self.env['telephony.flow'].with_user(self.telephony_admin).get_builder_schema()
        types = {state_type['type']: state_type for state_type in schema['types']}
        self.assertEqual(set(types), set(flow_definition.EVENTS))
        for state_type, events in flow_definition.EVENTS.items():
            self.assertEqual([event['event'] for event in types[state_type]['events']], list(events))
        self.assertEqual(schema['max_incoming'], flow_definition.MAX_INCOMING)
        # Every numeric setting carries the engine's range and default.
        integers = [setting for state_type in schema['types'] for setting in state_type['settings']
                    for setting in [setting, *setting.get('settings', [])]
                    if setting['kind'] == 'integer']
        self.assertTrue(integers)
        for setting in integers:
            self.assertEqual((setting['min'], setting['max']), flow_definition.RANGES[setting['key']])
            self.assertEqual(setting['default'], flow_definition.DEFAULTS[setting['key']])
        # A state as dropped on the canvas holds only settings its type has.
        for state_type in schema['types']:
            keys = {setting['key'] for setting in state_type['settings']}
            self.assertLessEqual(set(state_type['new_state']), keys, state_type['type'])

    def test_builder_data_and_problems_in_place(self):
        flow = self._flow().with_user(self.telephony_admin)
        data = flow.get_builder_data()
        self.assertEqual(json.loads(data['definition']), self.definition())
        self.assertEqual(data['problems'], [])
        self.assertIn([self.alice.id, 'Alice Agent'], data['users'])
        self.assertIn([self.support.id, 'Support'], data['groups'])
        self.assertFalse(data['published_definition'])
        self.assertTrue(data['can_edit'])

        definition = self.definition()
        definition['states']['sales']['ring_timeout'] = 500
        definition['states']['bye']['next'] = {'next': 'welcome'}
        problems = flow.check_builder_definition(definition)
        by_message = {problem['message']: problem['state_ids'] for problem in problems}
        ring = next(message for message in by_message if 'ring timeout' in message)
        self.assertEqual(by_message[ring], ['sales'])
        loops = [message for message in by_message if 'loops' in message]
        self.assertTrue(loops)
        for loop in loops:  # each cycle names the states along it
            self.assertLessEqual({'welcome', 'menu', 'vm', 'bye'}, set(by_message[loop]), loop)

        # Saving keeps positions (the engine ignores them) and answers the problems.
        definition = self.definition()
        definition['states']['welcome']['position'] = [120, 80]
        self.assertEqual(flow.save_builder_definition(definition), [])
        self.assertEqual(json.loads(flow.definition)['states']['welcome']['position'], [120, 80])
        flow.action_publish()
        self.assertEqual(json.loads(flow.published_definition)['states']['welcome']['position'],
                         [120, 80])

    def test_open_builder_from_the_flow(self):
        flow = self._flow().with_user(self.telephony_admin)
        action = flow.action_open_builder()
        self.assertEqual(action['tag'], 'builtin_telephony.flow_builder')
        self.assertEqual(action['params'], {'flow_id': flow.id})

    def test_user_cannot_save_a_draft(self):
        flow = self._flow()
        with self.assertRaises(Exception):
            flow.with_user(self.telephony_salesman).save_builder_definition(self.definition())


@tagged('post_install', '-at_install')
class TestFlowBuilderXmlRpc(HttpCase, FlowCase):

    def test_builder_methods_through_xmlrpc(self):
        flow = self._flow()
        self.telephony_admin.password = 'admin-pass-42'
        uid = self.telephony_admin.id
        models = xmlrpc.client.ServerProxy(f'{self.base_url()}/xmlrpc/2/object', allow_none=False)
        db = self.env.cr.dbname

        def call(method, *args):
            return models.execute_kw(db, uid, 'admin-pass-42', 'telephony.flow', method, list(args))

        schema = call('get_builder_schema')
        self.assertEqual(schema['max_incoming'], 10)
        data = call('get_builder_data', [flow.id])
        self.assertEqual(data['problems'], [])
        definition = self.definition()
        definition['states']['menu']['message'] = {'kind': 'text', 'text': ''}
        problems = call('save_builder_definition', [flow.id], json.dumps(definition))
        self.assertEqual([problem['state_ids'] for problem in problems], [['menu']])
        self.assertEqual(call('check_builder_definition', [flow.id], self.definition()), [])
