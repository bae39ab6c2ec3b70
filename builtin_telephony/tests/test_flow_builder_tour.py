import json

from odoo.tests import HttpCase, new_test_user, tagged

from .common import USER_GROUPS


@tagged('post_install', '-at_install')
class TestFlowBuilderTour(HttpCase):

    def test_build_publish_and_simulate_a_flow_in_the_browser(self):
        company = self.env.ref('base.main_company')
        account = self.env['telephony.account']._get_for_company(company)
        account.provider = 'sandbox'
        agent = self.env['telephony.user'].create({
            'user_id': new_test_user(self.env, 'tina', groups=USER_GROUPS, name="Tina Team").id,
            'company_id': company.id})
        team = self.env['telephony.group'].create({
            'name': 'Tour team', 'company_id': company.id, 'member_ids': [(6, 0, agent.ids)]})

        self.start_tour('/odoo', 'builtin_telephony_flow_builder', login='admin')

        flow = self.env['telephony.flow'].search([('name', '=', 'Builder line')])
        self.assertEqual(flow.description, 'Built by dragging')
        self.assertEqual(flow.state, 'published')
        published = json.loads(flow.published_definition)
        states = published['states']
        self.assertEqual(published['start'], 'announce_1')
        self.assertEqual({state_id: state['type'] for state_id, state in states.items()}, {
            'announce_1': 'announce', 'ivr_1': 'ivr', 'transfer_group_1': 'transfer_group',
            'voicemail_1': 'voicemail'})
        self.assertEqual(states['announce_1']['name'], 'Welcome')
        self.assertEqual(states['announce_1']['message'],
                         {'kind': 'text', 'text': 'Thanks for calling the builder line'})
        self.assertEqual(states['announce_1']['next'], {'next': 'ivr_1'})
        self.assertEqual(states['ivr_1']['next'], {'1': 'transfer_group_1', '2': 'voicemail_1'})
        self.assertEqual(states['transfer_group_1']['group_id'], team.id)
        self.assertEqual(states['transfer_group_1']['next'], {'timeout': 'voicemail_1'})
        self.assertEqual(states['voicemail_1']['next'], {}, "the loop back to Welcome was refused")
        self.assertEqual(states['voicemail_1']['message']['text'], 'Leave a message after the tone')
        for state in states.values():
            self.assertEqual(len(state['position']), 2)
        self.assertEqual(flow.validate_definition(flow.published_definition), [])
        self.assertEqual(flow.published_definition, flow.definition)
