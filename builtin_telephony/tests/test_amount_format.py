"""Amounts in messages are written the way their reader's language writes numbers (Odoo's
``formatLang``): "1.234,50 créditos" in Spanish, "1,234.50 credits" in English; the values that code
reads back (payment references, signed purchase values) stay machine-formatted."""
import re

from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import hmac as hmac_tool

from .common import ADMIN_GROUPS, TelephonyCase, demo_provider


@tagged('post_install', '-at_install')
class TestAmountsInTheReadersLanguage(TelephonyCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env['res.lang']._activate_lang('es_ES')
        # 1,234.50 credits available, whatever the fixture put in the wallet.
        cls.account.add_credits(1234.5 - cls.account.balance, 'test-amount-format')
        cls.account.overdraft_limit = 0.0

    def test_user_error_in_the_users_language(self):
        Number = self.env['telephony.number'].with_user(self.telephony_admin)
        for lang, expected in (
                ('es_ES', "Este número cuesta 2.000,00 créditos por su primer mes y hay 1.234,50 "
                          "créditos disponibles."),
                ('en_US', "This number costs 2,000.00 credits for its first month, and 1,234.50 "
                          "credits are available.")):
            with self.subTest(lang=lang), self.assertRaises(UserError) as refused:
                Number.with_context(lang=lang)._check_can_buy(self.account, {'monthly_price': 2000.0})
            self.assertIn(expected, str(refused.exception))

    def test_whole_numbers_are_grouped_too(self):
        wizard = self.env['telephony.credit.buy'].with_user(self.telephony_admin).with_context(
            lang='es_ES').create({'account_id': self.account.id, 'credits': 200_000})
        with self.assertRaisesRegex(UserError, r"Compra como máximo 100\.000 créditos a la vez"):
            wizard.action_pay()

    def test_chatter_note_in_the_language_of_the_env(self):
        self.account.auto_recharge_amount = 1234.5
        for lang, reference, expected in (
                ('es_ES', 'TELAR-1', "No se pudieron comprar 1.234,50 créditos (rechazado)."),
                ('en_US', 'TELAR-2', "1,234.50 credits could not be bought (rechazado).")):
            with self.subTest(lang=lang):
                self.account.with_context(lang=lang)._notify_auto_recharge_failure(reference, "rechazado")
                self.assertIn(expected, str(self.account.message_ids[:1].body))

    def test_notification_of_a_wizard(self):
        wizard = self.env['telephony.storage.plan.change'].with_user(self.telephony_admin).with_context(
            lang='es_ES').create({'account_id': self.account.id, 'storage_plan': '50k'})
        action = wizard.action_confirm()
        self.assertEqual(action['params']['message'],
                         "Plan de almacenamiento cambiado: 50.000 minutos, 25,00 créditos cobrados ahora.")
        self.assertAlmostEqual(self.account.balance, 1234.5 - 25)


@tagged('post_install', '-at_install')
class TestPaymentLandingPageAmount(HttpCase):

    def test_credits_on_the_landing_page(self):
        self.env['res.lang']._activate_lang('es_ES')
        buyer = new_test_user(self.env, 'landing_buyer', groups=ADMIN_GROUPS, name="Lena Buyer",
                              lang='es_ES')
        account = self.env['telephony.account']._get_for_company(self.env.company)
        provider = demo_provider(self.env)
        tx = self.env['payment.transaction'].sudo().create({
            'provider_id': provider.id,
            'payment_method_id': provider.payment_method_ids[:1].id,
            'reference': 'TELCR-landing-format',
            'amount': 1234.5,
            'currency_id': account.currency_id.id,
            'partner_id': buyer.partner_id.id,
            'telephony_account_id': account.id,
            'telephony_credits': 1234.5,
            'telephony_kind': 'purchase',
        })
        tx._set_done()
        # payment.utils.generate_access_token, without the HTTP request it reads its environment from.
        access_token = hmac_tool(self.env(su=True), 'generate_access_token',
                                 f'{buyer.partner_id.id}|{tx.amount}|{tx.currency_id.id}')
        self.authenticate('landing_buyer', 'landing_buyer')
        page = self.url_open(f'/payment/confirmation?tx_id={tx.id}&access_token={access_token}')
        self.assertEqual(page.status_code, 200)
        # The page shows the amount paid as well: look at the add-on's own paragraph only.
        landing = re.search(r'o_telephony_payment_landing.*?</p>', page.text, re.S).group(0)
        self.assertIn('1.234,50', landing)
