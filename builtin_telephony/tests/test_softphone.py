"""The salesperson's softphone, server side (C1–C5, docs/contracts.md routes for the web client):
its access token, its state, and the sandbox device's calls, which go through the signed
webhooks with the server playing Twilio's part."""
import json
import time

import jwt

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import FlowCase

TOKEN_ROUTE = '/telephony/softphone/token'


@tagged('post_install', '-at_install')
class TestSoftphone(HttpCase, FlowCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.webhook_base_url = cls.base_url()
        cls.account.add_credits(100, 'test-softphone')
        cls.number = cls._number('+14155550100')
        cls.alice.caller_id_number_ids = cls.number
        cls.flow = cls._flow(number_ids=[(6, 0, cls.number.ids)])
        cls.flow.action_publish()

    def rpc(self, login, route, params=None):
        self.authenticate(login, login)
        return self.make_jsonrpc_request(route, params or {})

    def rpc_error(self, login, route, params=None):
        self.authenticate(login, login)
        response = self.url_open(route, data=json.dumps({
            'jsonrpc': '2.0', 'method': 'call', 'id': 1, 'params': params or {}}),
            headers={'Content-Type': 'application/json'})
        return response.json().get('error')

    # -- Access tokens ------------------------------------------------------------------------

    def test_sandbox_token_is_the_users_own_identity_for_one_hour(self):
        before = int(time.time())
        answer = self.rpc('alice', TOKEN_ROUTE)
        self.assertEqual(set(answer), {'token', 'identity', 'expires_at', 'provider'})
        self.assertEqual(answer['identity'], self.alice.client_identity)
        self.assertEqual(answer['provider'], 'sandbox')
        # Signed with the sandbox's key (its auth token), HS256, as Twilio's tokens are.
        claims = jwt.decode(answer['token'], self.account.twilio_auth_token, algorithms=['HS256'])
        self.assertEqual(jwt.get_unverified_header(answer['token'])['cty'], 'twilio-fpa;v=1')
        self.assertEqual(claims['iss'][:2], 'SK')
        self.assertEqual(claims['sub'], self.account.twilio_account_sid)
        grants = claims['grants']
        self.assertEqual(grants['identity'], self.alice.client_identity)
        self.assertEqual(grants['voice']['incoming'], {'allow': True})
        self.assertEqual(grants['voice']['outgoing']['application_sid'][:2], 'AP')
        self.assertLessEqual(claims['exp'] - before, 3600 + 5)
        self.assertGreaterEqual(claims['exp'], before + 3600 - 5)
        self.assertAlmostEqual(answer['expires_at'], claims['exp'], delta=5)

    def test_twilio_token_uses_the_api_key_and_twiml_app(self):
        self.account.write({'provider': 'twilio', 'twilio_api_key_sid': 'SK' + 'a' * 32,
                            'twilio_api_key_secret': 'api-secret-of-at-least-32-bytes-long',
                            'twilio_twiml_app_sid': 'AP' + 'b' * 32})
        answer = self.rpc('bob', TOKEN_ROUTE)
        claims = jwt.decode(answer['token'], 'api-secret-of-at-least-32-bytes-long', algorithms=['HS256'])
        self.assertEqual(claims['iss'], 'SK' + 'a' * 32)
        self.assertEqual(claims['grants']['identity'], self.bob.client_identity)
        self.assertEqual(claims['grants']['voice']['outgoing']['application_sid'], 'AP' + 'b' * 32)
        self.assertEqual(answer['provider'], 'twilio')

    @mute_logger('odoo.http')
    def test_token_refusals(self):
        # Twilio without the softphone's credentials: a message saying who does what.
        self.account.write({'provider': 'twilio', 'twilio_api_key_sid': False})
        error = self.rpc_error('alice', TOKEN_ROUTE)
        self.assertIn('API key', error['data']['message'])
        self.account.provider = 'sandbox'
        # An internal user who is no telephony user; a telephony-group member without a
        # telephony user in this company; a removed telephony user.
        new_test_user(self.env, 'nobody', groups='base.group_user')
        outsider = new_test_user(self.env, 'outsider',
                                 groups='base.group_user,builtin_telephony.group_telephony_user')
        for login in ('nobody', 'outsider'):
            error = self.rpc_error(login, TOKEN_ROUTE)
            self.assertEqual(error['data']['name'], 'odoo.exceptions.AccessError', login)
            self.assertNotIn('token', error['data'])
        self.carol.unlink()
        error = self.rpc_error('carol', TOKEN_ROUTE)
        self.assertEqual(error['data']['name'], 'odoo.exceptions.AccessError')
        # Another company's telephony user gets nothing here either.
        self.assertFalse(outsider._telephony_user())

    def test_token_only_by_post_for_logged_in_users(self):
        response = self.url_open(TOKEN_ROUTE, data=json.dumps({'params': {}}),
                                 headers={'Content-Type': 'application/json'})
        error = response.json()['error']
        self.assertEqual(error['data']['name'], 'odoo.http.SessionExpiredException')
        self.assertNotIn('result', response.json())

    def test_state_and_availability(self):
        state = self.rpc('alice', '/telephony/softphone/state')
        self.assertEqual(state['identity'], self.alice.client_identity)
        self.assertFalse(state['available'])
        self.assertEqual(state['caller_ids'], ['+14155550100'])
        self.assertEqual(state['recent_calls'], [])
        self.assertEqual(self.rpc('alice', '/telephony/softphone/availability', {'available': True}),
                         {'available': True})
        self.assertEqual(self.alice.availability, 'available')
        self.assertTrue(self.alice.signed_in_at)
        self.rpc('alice', '/telephony/softphone/availability', {'available': False})
        self.assertEqual(self.alice.availability, 'offline')

    def test_create_twiml_app(self):
        self.account.provider = 'twilio'
        with self.assertRaises(Exception):
            self.account.with_user(self.telephony_salesman).action_create_twiml_app()
        self.account.provider = 'sandbox'
        self.account.with_user(self.telephony_admin).action_create_twiml_app()
        self.assertRegex(self.account.twilio_twiml_app_sid, r'^AP[0-9a-f]{32}$')

    # -- The sandbox device: calls through the signed webhooks --------------------------------

    def test_sandbox_outgoing_call_through_the_webhooks(self):
        lead = self.env['crm.lead'].create({'name': 'Quote for Dana', 'phone': '+12125550142',
                                            'user_id': self.alice.user_id.id})
        self.alice.availability = 'available'
        answer = self.rpc('alice', '/telephony/sandbox/connect', {'params': {
            'To': '+12125550142', 'CallerId': '+14155550100'}})
        self.assertEqual(answer['state'], 'in_progress')
        call = self.env['telephony.call'].search([('provider_sid', '=', answer['call_sid'])])
        self.assertEqual((call.direction, call.status, call.user_id), ('outbound', 'ringing', self.alice.user_id))
        self.assertEqual((call.from_number, call.to_number), ('+14155550100', '+12125550142'))
        self.assertEqual(call.lead_id, lead)
        answer = self.rpc('alice', '/telephony/sandbox/act', {'call_sid': call.provider_sid,
                                                              'action': 'disconnect'})
        self.assertEqual(answer['state'], 'ended')
        call.invalidate_recordset()
        self.assertEqual(call.status, 'completed')
        self.assertTrue(call.end_date)
        # Another user cannot act on it.
        self.assertTrue(self.rpc_error('bob', '/telephony/sandbox/act', {
            'call_sid': call.provider_sid, 'action': 'disconnect'}))

    def test_sandbox_refused_call_says_why(self):
        answer = self.rpc('alice', '/telephony/sandbox/connect', {'params': {'To': '+8613800138000'}})
        self.assertEqual(answer['state'], 'ended')
        self.assertEqual(answer['said'], ['This number cannot be called from here.'])

    def test_sandbox_incoming_call_rings_and_is_answered(self):
        self.alice.availability = 'available'
        SandboxCall = self.env['telephony.sandbox.call']
        sandbox_call = SandboxCall._simulate_incoming(self.number, '+14155550199', keys='1')
        rings = self.rpc('alice', '/telephony/sandbox/signals')
        self.assertEqual(len(rings), 1)
        self.assertEqual(rings[0]['call_sid'], sandbox_call.call_sid)
        self.assertEqual(self.rpc('bob', '/telephony/sandbox/signals'), [])
        answer = self.rpc('alice', '/telephony/sandbox/act', {'call_sid': sandbox_call.call_sid,
                                                              'action': 'accept'})
        self.assertEqual(answer['state'], 'in_progress')
        call = self.env['telephony.call'].search([('provider_sid', '=', sandbox_call.call_sid)])
        self.assertEqual((call.status, call.user_id), ('in_progress', self.alice.user_id))
        self.assertEqual(self.rpc('alice', '/telephony/sandbox/signals'), [])
        self.rpc('alice', '/telephony/sandbox/act', {'call_sid': sandbox_call.call_sid,
                                                     'action': 'disconnect'})
        call.invalidate_recordset()
        self.assertEqual(call.status, 'completed')

    def test_sandbox_incoming_call_declined_goes_to_voicemail(self):
        self.alice.availability = 'available'
        sandbox_call = self.env['telephony.sandbox.call']._simulate_incoming(
            self.number, '+14155550199', keys='1')
        self.rpc('alice', '/telephony/sandbox/act', {'call_sid': sandbox_call.call_sid,
                                                     'action': 'reject'})
        call = self.env['telephony.call'].search([('provider_sid', '=', sandbox_call.call_sid)])
        self.assertEqual(call.status, 'voicemail')
        self.assertTrue(call.end_date)
        self.assertEqual(call.recording_ids.kind, 'voicemail')
