from odoo.tests import HttpCase, tagged

from .common import demo_token


@tagged('post_install', '-at_install')
class TestPlanDetailsTour(HttpCase):

    def test_buy_credits_and_set_auto_recharge_in_the_browser(self):
        company = self.env.ref('base.main_company')
        account = self.env['telephony.account']._get_for_company(company)
        account.provider = 'sandbox'
        self.env['telephony.wallet.transaction'].search([('account_id', '=', account.id)]).sudo().unlink()
        token = demo_token(self.env, company.partner_id)
        self.env.ref('base.user_admin').groups_id |= self.env.ref('builtin_telephony.group_telephony_admin')
        self.start_tour('/odoo', 'builtin_telephony_plan_details', login='admin')
        self.assertAlmostEqual(account.balance, 25.0)
        purchase = account.wallet_transaction_ids.filtered(lambda line: line.kind == 'purchase')
        self.assertEqual((purchase.credits, purchase.user_id.login), (25.0, 'admin'))
        self.assertEqual(purchase.payment_transaction_id.state, 'done')
        self.assertTrue(account.auto_recharge)
        self.assertEqual((account.auto_recharge_min, account.auto_recharge_amount, account.auto_recharge_token_id),
                         (5.0, 30.0, token))
