"""The block list (U4, N6): E.164 normalisation, the one-query check, outgoing refusals."""
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import TelephonyCase


@tagged('post_install', '-at_install')
class TestBlockList(TelephonyCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.country_id = cls.env.ref('base.es')
        cls.Blocked = cls.env['telephony.blocked.number'].with_user(cls.telephony_admin)

    def _block(self, typed, note=None):
        return self.Blocked.create({'phone_number': typed, 'note': note})

    def test_numbers_are_stored_in_e164_whatever_way_they_are_typed(self):
        for typed, e164 in [
            ('+34 910 00 01 42', '+34910000142'),       # spaces
            ('+34-910-000-143', '+34910000143'),        # dashes
            ('910 000 144', '+34910000144'),            # national, read in the company's country
            ('0034 910 000 145', '+34910000145'),       # 00 international prefix
            ('+1 (415) 555-0166', '+14155550166'),      # brackets, another country
            ('+33612345678', '+33612345678'),           # already E.164
        ]:
            with self.subTest(typed=typed):
                self.assertEqual(self._block(typed).phone_number, e164)

    def test_editing_a_number_normalises_it_too(self):
        blocked = self._block('+34910000142')
        blocked.phone_number = '910 000 199'
        self.assertEqual(blocked.phone_number, '+34910000199')

    def test_a_number_that_cannot_be_dialled_is_refused(self):
        with self.assertRaises(UserError):
            self._block('12')

    def test_the_same_number_typed_twice_differently_is_blocked_once(self):
        self._block('+34 910 000 142')
        with mute_logger('odoo.sql_db'), self.assertRaises(IntegrityError):
            self._block('0034910000142')

    def test_block_list_is_on_the_company_page(self):
        blocked = self._block('910 000 142')
        self.assertEqual(blocked.account_id, self.account)
        self.assertIn(blocked, self.account.blocked_number_ids)

    def test_is_blocked_recognises_every_form_of_a_blocked_number(self):
        self._block('+34 910 000 142')
        Blocked = self.env['telephony.blocked.number']
        for number in ('+34910000142', '910000142', '0034 910-000-142'):
            self.assertTrue(Blocked.is_blocked(number), number)
        self.assertFalse(Blocked.is_blocked('+34910000143'))
        self.assertFalse(Blocked.is_blocked('anonymous'))
        self.assertFalse(Blocked.is_blocked(''))

    def test_is_blocked_is_per_company(self):
        self._block('+34910000142')
        other = self.env['res.company'].create({'name': "Other Co", 'country_id': self.env.ref('base.es').id})
        Blocked = self.env['telephony.blocked.number']
        self.assertTrue(Blocked.is_blocked('+34910000142', self.company))
        self.assertFalse(Blocked.is_blocked('+34910000142', other))

    def test_is_blocked_costs_one_query(self):
        self._block('+34910000142')
        Blocked = self.env['telephony.blocked.number']
        self.company.country_id.code  # noqa: B018 - the company is read once per request anyway
        with self.assertQueryCount(1):
            self.assertTrue(Blocked.is_blocked('+34 910 000 142', self.company))
        with self.assertQueryCount(1):
            self.assertFalse(Blocked.is_blocked('+34910000143', self.company))

    def test_outgoing_destination_checks(self):
        Blocked = self.env['telephony.blocked.number']
        self._block('+34 910 000 142')
        self.assertEqual(Blocked._check_outbound_destination('910 000 143'), '+34910000143')
        with self.assertRaisesRegex(UserError, r'\+34910000142 is on the block list'):
            Blocked._check_outbound_destination('0034 910 000 142')
        with self.assertRaisesRegex(UserError, r'not a phone number that can be called'):
            Blocked._check_outbound_destination('12')

    def test_china_is_always_refused_as_a_destination(self):
        Blocked = self.env['telephony.blocked.number']
        for number in ('+86 138 0013 8000', '0086 10 8888 8888'):
            with self.subTest(number=number), self.assertRaisesRegex(UserError, r'China \(\+86\)'):
                Blocked._check_outbound_destination(number)
        # Not blocked, yet still refused: N6 holds whatever the block list says.
        self.assertFalse(Blocked.is_blocked('+8613800138000'))

    def test_only_administrators_read_or_change_the_block_list(self):
        blocked = self._block('+34910000142')
        as_user = blocked.with_user(self.telephony_salesman)
        with self.assertRaises(AccessError):
            as_user.read(['phone_number'])
        with self.assertRaises(AccessError):
            self.env['telephony.blocked.number'].with_user(self.telephony_salesman).search_count([])
        with self.assertRaises(AccessError):
            as_user.write({'note': "changed"})
        with self.assertRaises(AccessError):
            as_user.unlink()
        with self.assertRaises(AccessError):
            self.env['telephony.blocked.number'].with_user(self.telephony_salesman).create(
                {'phone_number': '+34910000150'})
        blocked.unlink()
        self.assertFalse(self.env['telephony.blocked.number'].is_blocked('+34910000142'))

    def test_possible_but_unassigned_numbers_can_be_blocked(self):
        # Spoofed caller IDs are often possible numbers no carrier has: +1 555 0xx, Spain's 59x...
        Blocked = self.env['telephony.blocked.number']
        for typed, e164 in [('+1 415 010 0000', '+14150100000'), ('+34 590 000 001', '+34590000001')]:
            with self.subTest(typed=typed):
                self.assertEqual(self._block(typed).phone_number, e164)
                self.assertTrue(Blocked.is_blocked(e164))
        with self.assertRaises(UserError):
            self._block('+34 12')  # impossible: too short

    def test_callers_who_withhold_their_number_can_be_blocked(self):
        Blocked = self.env['telephony.blocked.number']
        self.assertFalse(Blocked.is_blocked('anonymous'))
        entry = self.Blocked.create({'withheld': True, 'note': "No anonymous calls"})
        self.assertEqual(entry.display_name, "Caller ID withheld")
        for caller in ('anonymous', 'Restricted', '+266696687', '', 'Unknown'):
            with self.subTest(caller=caller):
                self.assertTrue(Blocked.is_blocked(caller))
        self.assertFalse(Blocked.is_blocked('+34910000142'))
