"""The contract methods as an integrator's script calls them: through XML-RPC (issue 9, item 16;
CONTRACTS.md "Public methods and outside clients"). XML-RPC carries no None and no recordset: a
method that answers one fails *after* doing its work, which is the worst for a script."""
import math
import xmlrpc.client

from odoo.tests import HttpCase, new_test_user, tagged

from .common import ADMIN_GROUPS


@tagged('post_install', '-at_install')
class TestExternalApi(HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env['telephony.account']._get_for_company(cls.env.company)
        cls.account.provider = 'sandbox'
        cls.integrator = new_test_user(cls.env, 'integrator', groups=ADMIN_GROUPS, name="Ivy Integrator")

    def setUp(self):
        super().setUp()
        self.uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, 'integrator', 'integrator', {})
        self.assertTrue(self.uid)

    def call(self, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.uid, 'integrator', model, method,
                                             list(args), kwargs)

    def test_add_credits(self):
        balance = self.account.balance
        line_id = self.call('telephony.account', 'add_credits', [self.account.id], 25.0, 'ERP-TOPUP-1')
        self.assertIsInstance(line_id, int)
        self.assertEqual(self.env['telephony.wallet.transaction'].browse(line_id).credits, 25)
        # Retried by the script: the same line, no second top-up.
        self.assertEqual(self.call('telephony.account', 'add_credits', [self.account.id], 25.0, 'ERP-TOPUP-1'),
                         line_id)
        self.account.invalidate_recordset()
        self.assertAlmostEqual(self.account.balance, balance + 25)

    def test_add_credits_is_strict(self):
        balance = self.account.balance
        for args, kwargs in [
            ((math.nan, 'ERP-NAN'), {}),
            ((math.inf, 'ERP-INF'), {}),
            ((10.0, 'ERP-KIND'), {'kind': 'purchase'}),
            ((10.0, 'ERP-COLUMN'), {'payment_transaction_id': 1}),
            ((10.0, 'ERP-SETTLED'), {'settled': True}),
            ((10.0, ''), {}),
        ]:
            with self.subTest(args=args, kwargs=kwargs), self.assertRaises(xmlrpc.client.Fault):
                self.call('telephony.account', 'add_credits', [self.account.id], *args, **kwargs)
        self.account.invalidate_recordset()
        self.assertAlmostEqual(self.account.balance, balance)

    def test_numbers(self):
        self.call('telephony.account', 'add_credits', [self.account.id], 50.0, 'ERP-NUMBERS')
        found = self.call('telephony.account', 'search_available_numbers', [self.account.id], 'US', 'local',
                          limit=3)
        self.assertTrue(found)
        for number in found:
            self.assertTrue({'phone_number', 'region', 'monthly_price'} <= set(number))
        number_id = self.call('telephony.account', 'buy_number', [self.account.id],
                              found[0]['phone_number'], 'US', 'local')
        self.assertIsInstance(number_id, int)
        self.assertEqual(self.call('telephony.number', 'read', [number_id], ['phone_number'])[0]['phone_number'],
                         found[0]['phone_number'])
        self.call('telephony.number', 'action_release', [number_id])
        self.assertFalse(self.env['telephony.number'].search([('id', '=', number_id)]))

    def test_flows(self):
        flow_id = self.call('telephony.flow', 'create', {'name': "From a script"})
        problems = self.call('telephony.flow', 'validate_definition', [flow_id], {'start': 'nowhere', 'states': {}})
        self.assertTrue(problems)
        self.assertTrue(all(isinstance(problem, str) for problem in problems))
        self.assertEqual(self.call('telephony.flow', 'validate_definition', [flow_id],
                                   '{"start": "a", "states": {"a": {"type": "announce", "message": '
                                   '{"kind": "text", "text": "Hi"}, "next": {}}}}'), [])
        # Deeply nested JSON is a problem to report, not a server error.
        problems = self.call('telephony.flow', 'validate_definition', [flow_id], '[' * 100000 + ']' * 100000)
        self.assertTrue(problems)
        self.call('telephony.flow', 'write', [flow_id], {'definition': '{"start": "a", "states": {"a": '
                  '{"type": "announce", "message": {"kind": "text", "text": "Hi"}, "next": {}}}}'})
        self.call('telephony.flow', 'action_publish', [flow_id])
        self.assertEqual(self.env['telephony.flow'].browse(flow_id).state, 'published')
