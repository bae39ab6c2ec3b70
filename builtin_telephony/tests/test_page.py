"""The Built-in Telephony page as a person reads it (issue 13): access rights that follow the
Telephony users tab, numbers in international format, the next monthly charge, Settings."""
from datetime import date

from freezegun import freeze_time

from odoo.tests import Form, new_test_user, tagged

from ..tools.phone import format_international
from .common import TelephonyCase


@tagged('post_install', '-at_install')
class TestTelephonyUserAccess(TelephonyCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_group = cls.env.ref('builtin_telephony.group_telephony_user')
        cls.nina = new_test_user(cls.env, 'nina', groups='base.group_user', name="Nina Newcomer")

    def _add(self, user):
        return self.env['telephony.user'].with_user(self.telephony_admin).create(
            {'user_id': user.id, 'company_id': self.company.id})

    def test_adding_gives_the_access_right_and_removing_takes_it_back(self):
        telephony_user = self._add(self.nina)
        self.assertIn(self.user_group, self.nina.groups_id)
        self.assertTrue(self.nina.has_group('builtin_telephony.group_telephony_user'))
        telephony_user.with_user(self.telephony_admin).unlink()
        self.assertNotIn(self.user_group, self.nina.groups_id)

    def test_administrators_keep_their_rights(self):
        telephony_user = self._add(self.telephony_admin)
        telephony_user.unlink()
        self.assertTrue(self.telephony_admin.has_group('builtin_telephony.group_telephony_admin'))
        self.assertTrue(self.telephony_admin.has_group('builtin_telephony.group_telephony_user'))

    def test_a_telephony_user_of_another_company_keeps_the_right(self):
        other = self.env['res.company'].create({'name': "Other Co"})
        self.nina.company_ids |= other
        here = self._add(self.nina)
        self.env['telephony.user'].create({'user_id': self.nina.id, 'company_id': other.id})
        here.unlink()
        self.assertIn(self.user_group, self.nina.groups_id)

    def test_changing_the_user_moves_the_right(self):
        telephony_user = self._add(self.nina)
        omar = new_test_user(self.env, 'omar', groups='base.group_user', name="Omar Other")
        telephony_user.user_id = omar
        self.assertIn(self.user_group, omar.groups_id)
        self.assertNotIn(self.user_group, self.nina.groups_id)


@tagged('post_install', '-at_install')
class TestPageWords(TelephonyCase):

    def test_page_is_named_as_a_settings_page(self):
        self.assertEqual(self.account.with_user(self.telephony_admin).display_name, "Built-in Telephony")
        self.assertIn("Tess Admin", self.account.with_user(self.telephony_salesman).admin_names)

    def test_numbers_read_in_international_format(self):
        self.assertEqual(format_international('+14155550142'), '+1 415-555-0142')
        self.assertEqual(format_international('+34910000142'), '+34 910 00 01 42')
        self.assertEqual(format_international('client:user_2_1'), 'client:user_2_1')
        call = self.env['telephony.call'].create({
            'provider_sid': 'CA' + '1' * 32, 'direction': 'inbound', 'company_id': self.company.id,
            'from_number': '+12025550143', 'to_number': '+14155550142'})
        self.assertEqual(call.display_name, '+1 202-555-0143 → +1 415-555-0142')
        self.assertEqual((call.from_number_display, call.to_number), ('+1 202-555-0143', '+14155550142'))
        blocked = self.env['telephony.blocked.number'].create(
            {'company_id': self.company.id, 'phone_number': '+1 (415) 555-0166'})
        self.assertEqual((blocked.phone_number, blocked.phone_number_display, blocked.display_name),
                         ('+14155550166', '+1 415-555-0166', '+1 415-555-0166'))

    def test_number_search_results_and_summary_are_formatted(self):
        wizard = self.env['telephony.number.buy'].with_user(self.telephony_admin).create(
            {'account_id': self.account.id, 'country_id': self.env.ref('base.us').id})
        wizard.action_search()
        line = wizard.line_ids[1]
        self.assertEqual(line.phone_number_display, format_international(line.phone_number))
        self.assertNotEqual(line.phone_number_display, line.phone_number)
        line.action_choose()
        self.assertEqual((wizard.step, wizard.line_id), ('summary', line))
        self.assertEqual(wizard.phone_number_display, line.phone_number_display)


@tagged('post_install', '-at_install')
class TestMonthlyChargeNeverSurprises(TelephonyCase):

    def test_next_charge_is_on_the_page_and_the_job_charges_nothing_before(self):
        offered = [number['phone_number'] for number in self.account.with_user(
            self.telephony_admin).search_available_numbers('US', 'local', limit=3)]
        with freeze_time('2026-01-10'):
            sales = self._buy(offered[0])
            later = self._buy(offered[1])
        with freeze_time('2026-01-25'):
            last = self._buy(offered[2])
        account = self.account.with_user(self.telephony_admin)
        balance = account._get_balance()
        with freeze_time('2026-02-05'):
            account.invalidate_recordset()
            self.assertEqual(account.next_charge_date, date(2026, 2, 10))
            self.assertAlmostEqual(account.next_charge_credits, sales.monthly_price + later.monthly_price)
            self.assertIn(sales.display_name, account.next_charge_summary)
            self.assertNotIn(last.display_name, account.next_charge_summary)
            self.assertAlmostEqual(account.monthly_numbers_credits, 3 * sales.monthly_price)
            self.env['telephony.number']._cron_charge_monthly()
            self.assertAlmostEqual(account._get_balance(), balance, msg="nothing is due before the 10th")
        with freeze_time('2026-02-10'):
            self.env['telephony.number']._cron_charge_monthly()
            self.assertAlmostEqual(account._get_balance(), balance - 2 * sales.monthly_price)
            account.invalidate_recordset()
            self.assertEqual(account.next_charge_date, date(2026, 2, 25))


@tagged('post_install', '-at_install')
class TestSettings(TelephonyCase):

    def test_settings_say_provider_url_and_who_may_use_telephony(self):
        self.env['telephony.user'].create({'user_id': self.telephony_salesman.id, 'company_id': self.company.id})
        settings = Form(self.env['res.config.settings'].with_user(self.env.ref('base.user_admin')))
        self.assertEqual(settings.telephony_provider, 'Sandbox')
        self.assertTrue(settings.telephony_voice_url.endswith('/telephony/twilio/voice'))
        self.assertEqual(settings.telephony_user_count, 1)
        self.assertGreaterEqual(settings.telephony_admin_count, 1)
        action = settings.save().action_telephony_admins()
        self.assertIn(self.telephony_admin, self.env['res.users'].search(action['domain']))
