"""Shared fixtures of the add-on's tests."""
import json
from unittest.mock import patch

from odoo.tests import HttpCase, TransactionCase, new_test_user

from .twilio_driver import TwilioDriver

USER_GROUPS = 'base.group_user,builtin_telephony.group_telephony_user'
ADMIN_GROUPS = 'base.group_user,builtin_telephony.group_telephony_admin'


class TelephonyCase(TransactionCase):
    """A company with a sandbox telephony account, a telephony administrator and a user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.account = cls.env['telephony.account']._get_for_company(cls.company)
        cls.account.provider = 'sandbox'
        # Buying a number costs its first month: the fixture account starts with credits.
        cls.account.add_credits(100.0, 'test-fixture-credits')
        cls.telephony_admin = new_test_user(
            cls.env, 'telephony_admin', groups=ADMIN_GROUPS, name="Tess Admin")
        cls.telephony_salesman = new_test_user(
            cls.env, 'telephony_salesman', groups=USER_GROUPS, name="Sam Seller")

    @classmethod
    def _buy(cls, phone_number=None, country_code='US', number_type='local'):
        """Buy a sandbox number (the first one offered when none is given)."""
        account = cls.account.with_user(cls.telephony_admin)
        if not phone_number:
            phone_number = account.search_available_numbers(country_code, number_type, limit=1)[0]['phone_number']
        return cls.env['telephony.number'].browse(
            account.buy_number(phone_number, country_code, number_type))


def demo_provider(env):
    provider = env.ref('payment.payment_provider_demo').sudo()
    if provider.state == 'disabled':
        provider.state = 'test'
    return provider


def demo_token(env, partner, simulated_state='done'):
    provider = demo_provider(env)
    return env['payment.token'].sudo().create({
        'provider_id': provider.id,
        'payment_method_id': (provider.payment_method_ids[:1] or env.ref('payment.payment_method_unknown')).id,
        'partner_id': partner.id,
        'payment_details': '4242',
        'provider_ref': 'demo-token-%s' % simulated_state,
        'demo_simulated_state': simulated_state,
    })


def demo_definition(user_id, sequential_group_id, parallel_group_id):
    """A flow using every state type (the example of docs/contracts.md, plus a parallel group)."""
    return {
        'start': 'welcome',
        'states': {
            'welcome': {'type': 'announce', 'name': 'Welcome',
                        'message': {'kind': 'text', 'text': 'Thanks for calling',
                                    'language': 'en-US'},
                        'next': {'next': 'menu'}},
            'menu': {'type': 'ivr', 'name': 'Main menu',
                     'message': {'kind': 'text', 'text': 'Press 1 for sales, 2 for support, '
                                 '3 for the team, star for voicemail.'},
                     'next': {'1': 'sales', '2': 'support', '3': 'team', '*': 'vm',
                              'timeout': 'vm'}},
            'sales': {'type': 'transfer_user', 'name': 'Sales', 'user_id': user_id,
                      'record': True, 'ring_timeout': 20,
                      'queue': {'enabled': True, 'max_calls': 2,
                                'notify': {'kind': 'text', 'text': 'Please hold'},
                                'music': {'kind': 'url', 'url': 'https://example.com/hold.mp3'},
                                'music_loops': 2},
                      'next': {'timeout': 'vm', 'unavailable': 'vm', 'busy': 'vm'}},
            'support': {'type': 'transfer_group', 'name': 'Support',
                        'group_id': sequential_group_id, 'ring_strategy': 'sequential',
                        'ring_timeout': 30, 'user_timeout': 10, 'queue': {'enabled': False},
                        'next': {'timeout': 'vm', 'busy': 'bye', 'unavailable': 'bye'}},
            'team': {'type': 'transfer_group', 'name': 'Team', 'group_id': parallel_group_id,
                     'ring_strategy': 'parallel', 'ring_timeout': 25,
                     'queue': {'enabled': True, 'max_calls': 1,
                               'music': {'kind': 'url', 'url': 'https://example.com/hold.mp3'}},
                     'next': {'timeout': 'vm', 'unavailable': 'vm'}},
            'vm': {'type': 'voicemail', 'name': 'Voicemail',
                   'message': {'kind': 'text', 'text': 'Leave a message after the tone.'},
                   'timeout': 5, 'max_length': 120, 'next': {'timeout': 'bye'}},
            'bye': {'type': 'announce', 'name': 'Goodbye',
                    'message': {'kind': 'text', 'text': 'Goodbye'}, 'next': {}},
        },
    }


class FlowCase(TelephonyCase):
    """Telephony users Alice, Bob and Carol; "Support" (Bob, Carol) and "Team" (Alice, Bob)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        TelephonyUser = cls.env['telephony.user']
        cls.alice, cls.bob, cls.carol = (
            TelephonyUser.create({
                'user_id': new_test_user(cls.env, login, groups='base.group_user,'
                                         'builtin_telephony.group_telephony_user', name=name).id,
                'company_id': cls.company.id,
            })
            for login, name in (('alice', 'Alice Agent'), ('bob', 'Bob Agent'),
                                ('carol', 'Carol Agent')))
        cls.support = cls.env['telephony.group'].create({
            'name': 'Support', 'company_id': cls.company.id,
            'member_ids': [(6, 0, (cls.bob | cls.carol).ids)]})
        cls.team = cls.env['telephony.group'].create({
            'name': 'Team', 'company_id': cls.company.id,
            'member_ids': [(6, 0, (cls.alice | cls.bob).ids)]})

    @classmethod
    def _number(cls, phone_number):
        """A number of the account, as the "Buy a number" wizard leaves it."""
        return cls.env['telephony.number'].create({
            'account_id': cls.account.id, 'phone_number': phone_number,
            'country_id': cls.env.ref('base.us').id, 'number_type': 'local',
            'provider_sid': 'PN' + phone_number[1:].zfill(32)})

    @classmethod
    def definition(cls):
        return demo_definition(cls.alice.id, cls.support.id, cls.team.id)

    @classmethod
    def _flow(cls, definition=None, **values):
        return cls.env['telephony.flow'].with_user(cls.telephony_admin).create(dict({
            'name': 'Main line',
            'company_id': cls.company.id,
            'definition': json.dumps(definition or cls.definition()),
        }, **values))


CALLER = '+14155550199'
LINE_NUMBER = '+14155550100'


class DriverCase(HttpCase, FlowCase):
    """Calls placed through the signed webhooks by ``tests/twilio_driver.py`` (as Twilio places
    them): ``_publish_line()`` gives the account 100 credits, its public URL (this test server)
    and a flow published on ``LINE_NUMBER``; the account's gateway is the driver's unless
    ``patch_gateway`` is False (the sandbox's then)."""

    patch_gateway = True

    @classmethod
    def _publish_line(cls, reference, definition=None):
        cls.account.webhook_base_url = cls.base_url()
        cls.account.add_credits(100, reference)
        cls.number = cls._number(LINE_NUMBER)
        cls.flow = cls._flow(definition, number_ids=[(6, 0, cls.number.ids)])
        cls.flow.action_publish()

    def setUp(self):
        super().setUp()
        self.driver = TwilioDriver(self, self.account)
        if self.patch_gateway:
            gateway_patch = patch.object(type(self.env['telephony.account']), '_get_gateway',
                                         lambda account: self.driver.gateway())
            gateway_patch.start()
            self.addCleanup(gateway_patch.stop)

    def call_in(self, from_number=CALLER):
        return self.driver.incoming_call(from_number, self.number.phone_number)

    def record(self, call):
        """The ``telephony.call`` of a driven call."""
        return self.env['telephony.call'].search([('provider_sid', '=', call.sid)])
