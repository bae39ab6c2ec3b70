from odoo.tests import HttpCase, new_test_user, tagged

from .common import USER_GROUPS


@tagged('post_install', '-at_install')
class TestTelephonyUsersTour(HttpCase):

    def test_set_up_users_groups_and_block_list_in_the_browser(self):
        company = self.env.ref('base.main_company')
        account = self.env['telephony.account']._get_for_company(company)
        account.provider = 'sandbox'
        nora = new_test_user(self.env, 'nora', groups=USER_GROUPS, name="Nora Caller")
        otto = new_test_user(self.env, 'otto', groups=USER_GROUPS, name="Otto Offline")
        self.env['telephony.user'].create({'user_id': otto.id, 'company_id': company.id})

        self.start_tour('/odoo', 'builtin_telephony_users', login='admin')

        group = account.telephony_group_ids.filtered(lambda g: g.name == "Billing experts")
        self.assertEqual(group.description, "Invoices and refunds")
        telephony_user = account.telephony_user_ids.filtered(lambda u: u.user_id == nora)
        self.assertEqual(group.member_ids, telephony_user)
        self.assertTrue(telephony_user.record_outbound)
        self.assertTrue(telephony_user.allow_outbound)
        self.assertEqual(account.blocked_number_ids.mapped('phone_number'), ['+14155550166'])
        self.assertEqual(account.blocked_number_ids.note, "Robocalls")
        self.assertTrue(self.env['telephony.blocked.number'].is_blocked('+14155550166', company))
