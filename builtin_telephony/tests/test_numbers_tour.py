from odoo.tests import HttpCase, tagged


@tagged('post_install', '-at_install')
class TestPhoneNumbersTour(HttpCase):

    def test_buy_and_delete_a_number_in_the_browser(self):
        account = self.env['telephony.account']._get_for_company(self.env.ref('base.main_company'))
        account.provider = 'sandbox'
        account.add_credits(20.0, 'numbers-tour-credits')  # the first month is paid at purchase
        self.start_tour('/odoo', 'builtin_telephony_phone_numbers', login='admin')
        self.assertFalse(account.number_ids.filtered(lambda number: number.number_type == 'toll_free'))
        log = account.message_ids.mapped('body')
        self.assertTrue(any('bought (3.00 credits per month)' in body for body in log), log)
        self.assertTrue(any('deleted and released' in body for body in log), log)
