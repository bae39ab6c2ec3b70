"""Shared fixtures of the add-on's tests."""
from odoo.tests import TransactionCase, new_test_user

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
