"""The Built-in Telephony page as a person uses it, in the browser (issue 13)."""
from odoo.tests import HttpCase, new_test_user, tagged

from .common import ADMIN_GROUPS, USER_GROUPS
from .test_wallet_payment import demo_provider


@tagged('post_install', '-at_install')
class TestPageTours(HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.ref('base.main_company')
        cls.account = cls.env['telephony.account']._get_for_company(cls.company)
        cls.account.provider = 'sandbox'
        cls.env.ref('base.user_admin').groups_id |= cls.env.ref('builtin_telephony.group_telephony_admin')
        cls.user_group = cls.env.ref('builtin_telephony.group_telephony_user')

    def test_reload_and_shared_link_keep_telephony_menu(self):
        self.start_tour('/odoo', 'builtin_telephony_page_reload', login='admin')
        self.start_tour('/odoo/telephony', 'builtin_telephony_shared_link', login='admin')

    def test_user_saved_from_its_dialog_gets_access_and_opens_the_app(self):
        nina = new_test_user(self.env, 'nina', groups='base.group_user', name="Nina Newcomer")
        self.assertNotIn(self.user_group, nina.groups_id)
        self.start_tour('/odoo', 'builtin_telephony_add_user_dialog', login='admin')
        # Saved by the dialog's Save, although the tour left the page by a link at once.
        telephony_user = self.account.telephony_user_ids.filtered(lambda u: u.user_id == nina)
        self.assertTrue(telephony_user)
        self.assertIn(self.user_group, nina.groups_id)
        self.start_tour('/odoo', 'builtin_telephony_new_user_opens_app', login='nina')

    def test_salesperson_is_told_what_the_page_is(self):
        new_test_user(self.env, 'tess', groups=ADMIN_GROUPS, name="Tess Admin")
        new_test_user(self.env, 'sam', groups=USER_GROUPS, name="Sam Seller")
        self.start_tour('/odoo/telephony', 'builtin_telephony_salesperson_page', login='sam')

    def test_auto_recharge_hint_and_way_back_from_the_payment(self):
        provider = demo_provider(self.env)
        self.assertTrue(provider.allow_tokenization)
        self.env['telephony.wallet.transaction'].search([('account_id', '=', self.account.id)]).sudo().unlink()
        self.env['payment.token'].sudo().search([]).active = False
        self.start_tour('/odoo', 'builtin_telephony_auto_recharge_hint', login='admin')
        self.assertAlmostEqual(self.account.balance, 50.0)
        payment = self.env['payment.transaction'].sudo().search(
            [('telephony_account_id', '=', self.account.id)])
        self.assertEqual(payment.state, 'done')
        # The card saved while buying is offered for auto-recharge.
        self.assertTrue(payment.token_id)
        self.assertIn(str(payment.token_id.id), dict(self.account._selection_company_tokens()))

    def test_numbers_in_international_format_on_every_list(self):
        number = self.env['telephony.number'].create({
            'account_id': self.account.id, 'phone_number': '+14155550142',
            'country_id': self.env.ref('base.us').id, 'number_type': 'local', 'monthly_price': 2.0,
            'provider_sid': 'PN' + '0' * 31 + '9'})
        self.env['telephony.blocked.number'].create({'company_id': self.company.id, 'phone_number': '+14155550166'})
        self.env['telephony.call'].create({
            'provider_sid': 'CA' + '0' * 31 + '9', 'direction': 'inbound', 'status': 'completed',
            'from_number': '+12025550143', 'to_number': '+14155550142', 'number_id': number.id,
            'company_id': self.company.id})
        self.start_tour('/odoo', 'builtin_telephony_numbers_formatted', login='admin')
