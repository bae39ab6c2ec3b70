"""The call history (requirements H1, H2): call types, filters, access, and the CSV download
(docs/contracts.md: ``GET /telephony/calls/export.csv``)."""
import csv
import io
import json
import re
from urllib.parse import urlencode

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import BaseCase, HttpCase, tagged
from odoo.tools import file_open

from ..tools import wallet_periods
from ..tools.call_history import HEADER, HEADER_LINE, csv_cell
from .common import TelephonyCase

HEADER_TEXT = ("Date,Call type,Call owner,From,To,Duration (s),Recording duration (s),Credits,"
               "Status,Contact,Lead")


class CallHistoryFixtures:

    @classmethod
    def _call(cls, direction='inbound', status='completed', start='2026-11-10 09:00:00', user=None,
              **values):
        cls._sequence = getattr(cls, '_sequence', 0) + 1
        return cls.env['telephony.call'].create(dict({
            'provider_sid': 'CA%032x' % (0xC0FFEE00 + cls._sequence),
            'direction': direction,
            'status': status,
            'start_date': start,
            'from_number': '+14155550100',
            'to_number': '+14155550199',
            'company_id': cls.company.id,
            'user_id': user.id if user else False,
            'duration': 60,
        }, **values))


@tagged('post_install', '-at_install')
class TestCallHistory(CallHistoryFixtures, TelephonyCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env['telephony.call'].search([]).unlink()
        cls.salesman = cls.telephony_salesman
        cls.outgoing = cls._call('outbound', user=cls.salesman, start='2026-11-10 09:00:00')
        cls.incoming = cls._call('inbound', user=cls.telephony_admin, start='2026-11-03 09:00:00')
        cls.missed = cls._call('inbound', 'missed', start='2026-10-20 09:00:00', duration=0)
        cls.voicemail = cls._call('inbound', 'voicemail', start='2026-08-05 09:00:00')
        cls.busy = cls._call('inbound', 'busy', start='2026-08-04 09:00:00')

    def history(self, user=None, **filters):
        calls = self.env['telephony.call'].with_user(user or self.telephony_admin)
        return calls.get_call_history(**filters)

    def ids(self, history):
        return [row['id'] for row in history['records']]

    def test_call_types(self):
        self.assertEqual(self.outgoing.call_type, 'outgoing')
        self.assertEqual(self.incoming.call_type, 'incoming')
        self.assertEqual((self.missed | self.voicemail | self.busy).mapped('call_type'), ['missed'] * 3)
        self.assertEqual((self.missed.missed_percent, self.incoming.missed_percent), (100.0, 0.0))
        self.incoming.status = 'voicemail'
        self.assertEqual(self.incoming.call_type, 'missed', "stored and recomputed on status changes")

    def test_administrator_sees_every_call_newest_first(self):
        history = self.history()
        self.assertEqual(self.ids(history), (self.outgoing | self.incoming | self.missed | self.voicemail
                                             | self.busy).ids)
        self.assertEqual(history['length'], 5)
        row = history['records'][0]
        self.assertEqual({key: row[key] for key in ('call_type', 'call_type_label', 'user', 'duration',
                                                     'status_label', 'recording_id')},
                         {'call_type': 'outgoing', 'call_type_label': 'Outgoing', 'user': 'Sam Seller',
                          'duration': 60, 'status_label': 'Completed', 'recording_id': False})
        self.assertEqual(row['start_date'], '2026-11-10 09:00:00', "UTC: the browser shows its zone")

    def test_user_sees_own_calls(self):
        self.assertEqual(self.ids(self.history(self.salesman)), self.outgoing.ids)
        self.assertEqual(self.history(self.salesman, call_type='incoming')['length'], 0)

    def test_contact_and_lead_named_only_where_readable(self):
        lead = self.env['crm.lead'].create({'name': "Someone else's deal"})
        contact = self.env['res.partner'].create({'name': 'Carla Contact'})
        self.outgoing.write({'lead_id': lead.id, 'partner_id': contact.id})
        row = self.history(self.salesman)['records'][0]
        self.assertEqual((row['contact'], row['lead']), ('Carla Contact', ''),
                         "a telephony user without access to leads does not see their names")
        self.salesman.groups_id |= self.env.ref('sales_team.group_sale_salesman_all_leads')
        row = self.history(self.salesman)['records'][0]
        self.assertEqual(row['lead'], "Someone else's deal")

    def test_filters(self):
        self.assertEqual(self.ids(self.history(call_type='missed')),
                         (self.missed | self.voicemail | self.busy).ids)
        self.assertEqual(self.ids(self.history(call_type='outgoing')), self.outgoing.ids)
        self.assertEqual(self.ids(self.history(user_id=self.telephony_admin.id)), self.incoming.ids)
        self.assertEqual(self.ids(self.history(period='custom', date_from='2026-08-05',
                                               date_to='2026-11-03')),
                         (self.incoming | self.missed | self.voicemail).ids)
        history = self.history(call_type='incoming', period='custom', date_from='2026-11-01',
                               date_to='2026-11-30', offset=0, limit=1)
        self.assertEqual(history['export_url'], '/telephony/calls/export.csv?call_type=incoming'
                                                '&date_from=2026-11-01&date_to=2026-11-30')

    @freeze_time('2026-11-12 10:00:00')
    def test_period_presets_of_the_credit_analytics(self):
        # Thursday 12 November 2026: this week starts on Monday the 9th.
        expected = {
            'this_week': (self.outgoing, '2026-11-09', '2026-11-15'),
            'last_week': (self.incoming, '2026-11-02', '2026-11-08'),
            'this_month': (self.outgoing | self.incoming, '2026-11-01', '2026-11-30'),
            'last_month': (self.missed, '2026-10-01', '2026-10-31'),
            'this_quarter': (self.outgoing | self.incoming | self.missed, '2026-10-01', '2026-12-31'),
            'last_quarter': (self.voicemail | self.busy, '2026-07-01', '2026-09-30'),
        }
        for period, (calls, first, last) in expected.items():
            with self.subTest(period=period):
                history = self.history(period=period)
                self.assertEqual(self.ids(history), calls.ids)
                self.assertEqual((history['date_from'], history['date_to']), (first, last))

    def test_days_are_the_users_days(self):
        late = self._call('inbound', start='2026-11-20 23:30:00')  # 21 November in Brussels
        self.telephony_admin.tz = 'Europe/Brussels'
        self.assertEqual(self.ids(self.history(period='custom', date_from='2026-11-21',
                                               date_to='2026-11-21')), late.ids)
        self.telephony_admin.tz = 'America/Los_Angeles'
        self.assertEqual(self.ids(self.history(period='custom', date_from='2026-11-20',
                                               date_to='2026-11-20')), late.ids)

    def test_bad_filters_say_which_and_why(self):
        for filters, message in (
            ({'call_type': 'lost'}, "call_type must be one of incoming, outgoing, missed"),
            ({'user_id': 'bob'}, "user_id must be the id of a user"),
            ({'period': 'custom', 'date_from': '2026-13-01'}, "date_from must be a date as YYYY-MM-DD"),
            ({'period': 'custom', 'date_from': '2026-11-02', 'date_to': '2026-11-01'},
             "date_from (2026-11-02) is after date_to (2026-11-01)"),
            ({'period': 'fortnight'}, "period must be one of this_week"),
        ):
            with self.subTest(filters=filters), self.assertRaisesRegex(UserError, message.replace('(', r'\(').replace(')', r'\)')):
                self.history(**filters)

    def test_csv_cells_are_escaped_like_odoo_export(self):
        self.assertEqual([csv_cell(value) for value in ('=1+1', '+3245', '-2', '@SUM(A1)', 'Bob', 12, None, False)],
                         ["'=1+1", "'+3245", "'-2", "'@SUM(A1)", 'Bob', 12, '', ''])
        self.assertEqual(HEADER_LINE, HEADER_TEXT + '\r\n')
        self.assertEqual(len(HEADER), 11)


@tagged('post_install', '-at_install')
class TestCallHistoryDownload(CallHistoryFixtures, HttpCase):
    """The CSV route, as a browser downloads it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.env['telephony.call'].search([]).unlink()
        Users = cls.env['res.users'].with_context(no_reset_password=True)
        cls.admin_user = Users.create({
            'name': 'Ada Admin', 'login': 'ada', 'password': 'ada-password-1', 'tz': 'Europe/Brussels',
            'groups_id': [(6, 0, [cls.env.ref('builtin_telephony.group_telephony_admin').id,
                                  cls.env.ref('sales_team.group_sale_salesman_all_leads').id])]})
        cls.seller = Users.create({
            'name': '=Sam "Seller"', 'login': 'sam', 'password': 'sam-password-1', 'tz': 'America/New_York',
            'groups_id': [(6, 0, [cls.env.ref('builtin_telephony.group_telephony_user').id])]})
        contact = cls.env['res.partner'].create({'name': '@Contact'})
        lead = cls.env['crm.lead'].create({'name': '-1 lead, "quoted"'})
        cls.own = cls._call('outbound', user=cls.seller, start='2026-11-10 23:30:00', duration=125,
                            recording_duration=120, credits=0.042, partner_id=contact.id,
                            lead_id=lead.id, from_number='+3225550100', to_number='=cmd|x')
        cls.other = cls._call('inbound', 'missed', start='2026-11-01 08:00:00', duration=0)

    def download(self, login, password, **params):
        self.authenticate(login, password)
        return self.url_open('/telephony/calls/export.csv' + ('?' + urlencode(params) if params else ''))

    def rows(self, response):
        self.assertEqual(response.status_code, 200, response.text)
        self.assertTrue(response.headers['Content-Type'].startswith('text/csv'))
        self.assertIn("attachment; filename*=UTF-8''calls-", response.headers['Content-Disposition'])
        text = response.content.decode()
        self.assertTrue(text.startswith(HEADER_TEXT + '\r\n'), text[:200])
        return list(csv.reader(io.StringIO(text)))[1:]

    def test_administrator_downloads_every_call_in_their_time_zone(self):
        rows = self.rows(self.download('ada', 'ada-password-1'))
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[0], [
            '2026-11-11 00:30:00', 'Outgoing', "'=Sam \"Seller\"", "'+3225550100", "'=cmd|x",
            '125', '120', '0.042', 'Completed', "'@Contact", "'-1 lead, \"quoted\""])
        self.assertEqual(rows[1][:3], ['2026-11-01 09:00:00', 'Missed', ''])
        self.assertFalse(self.download('ada', 'ada-password-1').headers.get('Content-Length'),
                         "streamed as it is read, not built in memory first")

    def test_user_downloads_own_calls_only(self):
        rows = self.rows(self.download('sam', 'sam-password-1'))
        self.assertEqual([row[0] for row in rows], ['2026-11-10 18:30:00'], "New York time")
        self.assertEqual(rows[0][9:], ["'@Contact", ''], "no access to leads: the lead is not named")
        rows = self.rows(self.download('sam', 'sam-password-1', call_type='missed'))
        self.assertEqual(rows, [], "others' missed calls are not theirs to read")

    def test_filters(self):
        login = ('ada', 'ada-password-1')
        self.assertEqual(len(self.rows(self.download(*login, call_type='missed'))), 1)
        self.assertEqual(len(self.rows(self.download(*login, user_id=self.seller.id))), 1)
        # Brussels days: the outgoing call (23:30 UTC on the 10th) is on the 11th.
        self.assertEqual(len(self.rows(self.download(*login, date_from='2026-11-11', date_to='2026-11-11'))), 1)
        self.assertEqual(len(self.rows(self.download(*login, date_from='2026-11-10', date_to='2026-11-10'))), 0)
        self.assertEqual(len(self.rows(self.download(*login, date_to='2026-11-05'))), 1)
        domain = json.dumps([('duration', '>', 100)])
        self.assertEqual([row[5] for row in self.rows(self.download(*login, domain=domain))], ['125'])

    def test_bad_parameters_get_400_with_the_reason(self):
        for params, reason in (
            ({'call_type': 'lost'}, 'call_type must be one of incoming, outgoing, missed'),
            ({'date_from': 'yesterday'}, 'date_from must be a date as YYYY-MM-DD'),
            ({'user_id': '-4'}, 'user_id must be the id of a user'),
            ({'domain': '[("no_such_field", "=", 1)]'}, 'domain must be an Odoo domain in JSON'),
            ({'domain': '[["no_such_field", "=", 1]]'}, 'domain is not a valid domain of calls'),
            ({'owner': '2'}, 'Unknown parameter(s): owner'),
        ):
            with self.subTest(params=params):
                response = self.download('ada', 'ada-password-1', **params)
                self.assertEqual(response.status_code, 400)
                self.assertIn(reason, response.text.replace('&#34;', '"').replace('&quot;', '"'))

    def test_public_gets_nothing(self):
        self.authenticate(None, None)
        response = self.url_open('/telephony/calls/export.csv', allow_redirects=False)
        self.assertIn(response.status_code, (303, 302))
        self.assertIn('/web/login', response.headers['Location'])


class TestPeriodKeys(BaseCase):
    """The browser sends a period's key and the server turns it into dates: the presets of
    ``static/src/utils/periods.js`` must be the keys of ``tools/wallet_periods.PERIODS``, in the
    same order (the select's)."""

    def test_js_presets_are_the_servers_periods(self):
        with file_open('builtin_telephony/static/src/utils/periods.js') as source:
            block = re.search(r'export const PERIODS = \[(.*?)\];', source.read(), re.S)
        self.assertTrue(block, "periods.js no longer exports PERIODS")
        self.assertEqual(tuple(re.findall(r'"(\w+)"', block.group(1))), wallet_periods.PERIODS)
