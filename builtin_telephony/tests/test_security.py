from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import TelephonyCase


@tagged('post_install', '-at_install')
class TestInstallation(TelephonyCase):

    def test_installable_application(self):
        module = self.env['ir.module.module'].search([('name', '=', 'builtin_telephony')])
        self.assertEqual(module.state, 'installed')
        self.assertTrue(module.application)
        self.assertEqual(module.category_id.name, 'CRM')
        root = self.env.ref('builtin_telephony.menu_telephony_root')
        self.assertEqual(root.web_icon, 'builtin_telephony,static/description/icon.png')

    def test_reachable_from_settings(self):
        def settings_arch(groups):
            user = new_test_user(self.env, f'settings_{len(groups)}', groups=groups)
            return self.env['res.config.settings'].with_user(user).get_views(
                [(False, 'form')])['views']['form']['arch']
        self.assertIn('Open Built-in Telephony', settings_arch(
            'base.group_system,builtin_telephony.group_telephony_admin'))
        self.assertNotIn('Open Built-in Telephony', settings_arch('base.group_system'),
                         "only telephony administrators manage telephony")

    def test_admin_group_implies_user(self):
        admin_group = self.env.ref('builtin_telephony.group_telephony_admin')
        self.assertIn(self.env.ref('builtin_telephony.group_telephony_user'), admin_group.implied_ids)
        self.assertTrue(self.telephony_admin.has_group('builtin_telephony.group_telephony_user'))

    def test_one_account_per_company(self):
        account = self.env['telephony.account']._get_for_company(self.company)
        self.assertEqual(account, self.account)
        other = self.env['res.company'].create({'name': "Other Co"})
        self.assertNotEqual(self.env['telephony.account']._get_for_company(other), self.account)

    def test_menu_opens_the_company_page(self):
        action = self.env['telephony.account'].with_user(self.telephony_admin).action_open_account()
        self.assertEqual(action['res_model'], 'telephony.account')
        self.assertEqual(action['res_id'], self.account.id)


@tagged('post_install', '-at_install')
class TestAccessRights(TelephonyCase):

    def test_user_cannot_read_secrets(self):
        account = self.account.with_user(self.telephony_salesman)
        self.assertEqual(account.company_id, self.company)  # the account itself is readable
        with self.assertRaises(AccessError):
            account.read(['twilio_auth_token'])
        with self.assertRaises(AccessError):
            account.read(['twilio_account_sid'])
        self.assertTrue(self.account.with_user(self.telephony_admin).twilio_auth_token)

    def test_user_cannot_buy_or_release_numbers(self):
        number = self._buy()
        account = self.account.with_user(self.telephony_salesman)
        with self.assertRaises(AccessError):
            account.search_available_numbers('US', 'local')
        with self.assertRaises(AccessError):
            account.buy_number('+14155550123', 'US', 'local')
        with self.assertRaises(AccessError):
            number.with_user(self.telephony_salesman).action_release()
        with self.assertRaises(AccessError):
            self.env['telephony.number.buy'].with_user(self.telephony_salesman).create({})
        # ... but sees the numbers, e.g. to pick a caller ID.
        self.assertEqual(number.with_user(self.telephony_salesman).phone_number, number.phone_number)

    def test_user_cannot_change_provider(self):
        with self.assertRaises(AccessError):
            self.account.with_user(self.telephony_salesman).write({'provider': 'twilio'})

    def test_employee_without_telephony_sees_nothing(self):
        employee = new_test_user(self.env, 'plain_employee', groups='base.group_user')
        self._buy()
        with self.assertRaises(AccessError):
            self.env['telephony.number'].with_user(employee).search([])
        with self.assertRaises(AccessError):
            self.env['telephony.account'].with_user(employee).search([])

    def test_multi_company_isolation(self):
        number = self._buy()
        other_company = self.env['res.company'].create({'name': "Other Co"})
        other_admin = new_test_user(
            self.env, 'other_admin', groups='base.group_user,builtin_telephony.group_telephony_admin',
            company_id=other_company.id, company_ids=[other_company.id])
        Number = self.env['telephony.number'].with_user(other_admin).with_company(other_company)
        self.assertFalse(Number.search([('id', '=', number.id)]))
        self.assertNotIn(self.account, self.env['telephony.account'].with_user(other_admin).search([]))
