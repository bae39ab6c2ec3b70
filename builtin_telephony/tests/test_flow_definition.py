"""Call flows on the model: validation against the company's users and groups, publication,
draft versus published, enable/disable, numbers, import and export (F2, F4, N5, B6)."""
import base64
import json

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from .common import FlowCase


@tagged('post_install', '-at_install')
class TestFlowDefinition(FlowCase):

    def test_new_flow_starts_valid_and_is_listed_on_the_account(self):
        flow = self.env['telephony.flow'].with_user(self.telephony_admin).create({'name': 'New'})
        self.assertEqual(flow.validate_definition(flow.definition), [])
        self.assertEqual(flow.state, 'draft')
        self.assertEqual(flow.account_id, self.account)
        self.assertIn(flow, self.account.flow_ids)
        flow.action_archive()
        self.account.invalidate_recordset(['flow_ids'])
        self.assertIn(flow, self.account.flow_ids, "disabled flows stay on the Call flows tab")

    def test_validation_knows_the_company_users_and_groups(self):
        flow = self._flow()
        self.assertEqual(flow.validate_definition(flow.definition), [])
        other_company = self.env['res.company'].create({'name': 'Other Co'})
        outsider = self.env['telephony.user'].create({
            'user_id': self.telephony_salesman.id, 'company_id': other_company.id})
        definition = self.definition()
        definition['states']['sales']['user_id'] = outsider.id
        definition['states']['team']['group_id'] = 999999
        problems = flow.validate_definition(json.dumps(definition))
        self.assertEqual(len(problems), 2, problems)
        self.assertIn('"Sales": telephony user #%s does not exist' % outsider.id, problems[0])
        self.assertIn('"Team": telephony group #999999', problems[1])

    def test_publish_refuses_a_draft_with_problems_listing_them_all(self):
        definition = self.definition()
        definition['states']['bye']['next'] = {'next': 'welcome'}          # a loop
        definition['states']['vm']['max_length'] = 300                     # too long
        definition['states']['menu']['next']['#'] = 'vm'                   # not a key
        flow = self._flow(definition)
        with self.assertRaises(ValidationError) as raised:
            flow.action_publish()
        message = str(raised.exception)
        for fragment in ('Welcome → Main menu → Sales → Voicemail → Goodbye → Welcome',
                         'maximum message length', 'a "#" connection'):
            self.assertIn(fragment, message)
        self.assertEqual(flow.state, 'draft')
        self.assertFalse(flow.published_definition)
        self.assertIn('maximum message length', flow.draft_problems)

    def test_draft_and_published_versions(self):
        flow = self._flow()
        flow.action_publish()
        self.assertEqual(flow.state, 'published')
        self.assertEqual(flow.published_version, 1)
        self.assertEqual(json.loads(flow.published_definition), self.definition())
        self.assertFalse(flow.has_unpublished_changes)
        first = flow.published_version_id

        # Editing changes the draft only.
        definition = self.definition()
        definition['states']['welcome']['message']['text'] = 'Welcome to the new line'
        flow.definition = json.dumps(definition)
        self.assertTrue(flow.has_unpublished_changes)
        self.assertEqual(json.loads(flow.published_definition)['states']['welcome']['message']['text'],
                         'Thanks for calling')
        self.assertEqual(flow._get_running_version(), first)

        # Side by side, in words, the changed state marked in both.
        self.assertIn('“Welcome to the new line” read aloud', flow.draft_html)
        self.assertIn('“Thanks for calling” read aloud', flow.published_html)
        self.assertIn('Main menu —1→ Sales', flow.draft_html)
        self.assertIn('Main menu —1→ Sales', flow.published_html)
        self.assertIn('User: Alice Agent', flow.published_html)
        self.assertIn('Group: Support', flow.published_html)
        self.assertEqual(str(flow.draft_html).count('Changed</span>'), 1)
        self.assertEqual(str(flow.published_html).count('Changed</span>'), 1)

        flow.action_publish()
        self.assertEqual(flow.published_version, 2)
        self.assertFalse(flow.has_unpublished_changes)
        self.assertEqual(json.loads(first.definition)['states']['welcome']['message']['text'],
                         'Thanks for calling', "the version calls started with is kept")

        flow.definition = json.dumps(self.definition())
        flow.action_discard_draft()
        self.assertIn('Welcome to the new line', flow.definition)

    def test_disabled_or_unpublished_flow_runs_nothing(self):
        flow = self._flow()
        self.assertFalse(flow._get_running_version(), "never published")
        flow.action_publish()
        self.assertTrue(flow._get_running_version())
        flow.action_archive()
        self.assertFalse(flow.active)
        self.assertFalse(flow._get_running_version())
        flow.action_unarchive()
        self.assertEqual(flow._get_running_version(), flow.published_version_id)

    def test_a_number_belongs_to_one_flow(self):
        number = self._number('+14155550111')
        first, second = self._flow(name='First'), self._flow(name='Second')
        with Form(first) as form:
            form.number_ids.add(number)
        self.assertEqual(number.flow_id, first)
        second.number_ids = [(4, number.id)]
        self.assertEqual(number.flow_id, second)
        self.assertFalse(first.number_ids)
        second.number_ids = [(3, number.id)]
        self.assertFalse(number.flow_id)
        self.assertTrue(number.exists(), "removing a number from a flow does not release it")

    def test_draft_must_stay_json(self):
        flow = self._flow()
        with self.assertRaises(ValidationError):
            flow.definition = '{"start": '

    def test_only_administrators_publish(self):
        flow = self._flow()
        with self.assertRaises(AccessError):
            flow.with_user(self.telephony_salesman).action_publish()
        self.assertEqual(flow.state, 'draft')

    def test_export_then_import(self):
        source = self._flow()
        action = source.action_export_json()
        export = self.env['telephony.flow.transfer'].browse(action['res_id'])
        self.assertEqual(export.filename, 'Main_line.json')
        self.assertEqual(json.loads(base64.b64decode(export.file)), self.definition())

        target = self._flow(name='Copy')
        target.action_publish()
        published = target.published_definition
        definition = self.definition()
        definition['states']['bye']['message']['text'] = 'See you'
        wizard = self.env['telephony.flow.transfer'].browse(
            target.action_import_json()['res_id'])
        wizard.file = base64.b64encode(json.dumps(definition).encode())
        self.assertFalse(wizard.problems)
        wizard.action_import()
        self.assertEqual(json.loads(target.definition), definition)
        self.assertEqual(target.published_definition, published, "import replaces the draft only")
        self.assertTrue(target.has_unpublished_changes)

    def test_import_refuses_what_is_not_a_flow_and_explains_problems(self):
        flow = self._flow()
        before = flow.definition
        for text in ('{"start": ', '[1, 2]', ''):
            with self.subTest(text=text):
                wizard = self.env['telephony.flow.transfer'].browse(
                    flow.action_import_json()['res_id'])
                wizard.definition = text
                with self.assertRaises(UserError):
                    wizard.action_import()
                self.assertEqual(flow.definition, before)
        wizard = self.env['telephony.flow.transfer'].browse(flow.action_import_json()['res_id'])
        wizard.definition = json.dumps({'start': 'nowhere', 'states': {}})
        self.assertIn('"nowhere"', wizard.problems)
        wizard.action_import()
        self.assertEqual(json.loads(flow.definition), {'start': 'nowhere', 'states': {}})


@tagged('post_install', '-at_install')
class TestCallFlowsTab(HttpCase, FlowCase):

    def test_compare_publish_and_disable_in_the_browser(self):
        self.env.ref('base.user_admin').company_id = self.company
        flow = self._flow(name='Tour line')
        flow.action_publish()
        definition = self.definition()
        definition['states']['welcome']['message']['text'] = 'Welcome to the new line'
        flow.definition = json.dumps(definition)
        self.start_tour('/odoo', 'builtin_telephony_call_flows', login='admin')
        self.assertEqual(flow.published_version, 2)
        self.assertIn('Welcome to the new line', flow.published_definition)
        self.assertFalse(flow.active)
