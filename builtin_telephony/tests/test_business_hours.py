"""The ``business_hours`` state (B1) through real calls: open and closed from a working-hours
calendar in its own time zone, across a daylight-saving change, midnight and a public holiday,
with frozen time; validated and described like the other states."""
import json

from freezegun import freeze_time

from odoo.tests import tagged

from ..tools.flow import description, validation
from .common import CALLER, DriverCase


def hours_definition(calendar_id):
    return {
        'start': 'hours',
        'states': {
            'hours': {'type': 'business_hours', 'name': 'Office hours', 'calendar_id': calendar_id,
                      'next': {'open': 'open', 'closed': 'closed'}},
            'open': {'type': 'announce', 'name': 'Open',
                     'message': {'kind': 'text', 'text': 'We are open'}, 'next': {}},
            'closed': {'type': 'announce', 'name': 'Closed',
                       'message': {'kind': 'text', 'text': 'We are closed'}, 'next': {}},
        },
    }


@tagged('post_install', '-at_install')
class TestBusinessHours(DriverCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Brussels: UTC+2 in summer, UTC+1 from Sunday 25 October 2026 at 03:00 local time.
        # Weekdays 09:00-17:00, and a night shift from Friday 22:00 to Saturday 02:00.
        attendances = [(0, 0, {'name': 'Day %s' % day, 'dayofweek': str(day), 'hour_from': 9,
                               'hour_to': 17, 'day_period': 'morning'}) for day in range(5)]
        attendances += [
            (0, 0, {'name': 'Friday night', 'dayofweek': '4', 'hour_from': 22, 'hour_to': 24,
                    'day_period': 'afternoon'}),
            (0, 0, {'name': 'Saturday night', 'dayofweek': '5', 'hour_from': 0, 'hour_to': 2,
                    'day_period': 'morning'}),
        ]
        cls.calendar = cls.env['resource.calendar'].create({
            'name': 'Brussels office', 'tz': 'Europe/Brussels', 'company_id': cls.company.id,
            'attendance_ids': [(5, 0, 0)] + attendances})
        # A public holiday: a leave of the calendar without a resource (Tuesday 27 October).
        cls.env['resource.calendar.leaves'].create({
            'name': 'Office closed', 'calendar_id': cls.calendar.id, 'resource_id': False,
            'date_from': '2026-10-26 23:00:00', 'date_to': '2026-10-27 22:59:59'})
        cls._publish_line('test-business-hours', hours_definition(cls.calendar.id))

    def heard_at(self, utc_time):
        with freeze_time(utc_time):
            call = self.call_in()
        record = self.record(call)
        event = record.step_ids.filtered(lambda step: step.state_ref == 'hours'
                                         and step.event != 'entered').event
        self.assertEqual(call.said[0], 'We are open' if event == 'open' else 'We are closed')
        return event

    def test_open_and_closed_across_a_daylight_saving_change(self):
        # Friday 23 October, summer time: 07:30 UTC is 09:30 in Brussels.
        self.assertEqual(self.heard_at('2026-10-23 07:30:00'), 'open')
        self.assertEqual(self.heard_at('2026-10-23 06:59:00'), 'closed')   # 08:59 local
        self.assertEqual(self.heard_at('2026-10-23 14:59:00'), 'open')     # 16:59 local
        self.assertEqual(self.heard_at('2026-10-23 15:00:00'), 'closed')   # 17:00 local
        # Monday 26 October, winter time: the same 07:30 UTC is 08:30 in Brussels, closed;
        # opening is now at 08:00 UTC.
        self.assertEqual(self.heard_at('2026-10-26 07:30:00'), 'closed')
        self.assertEqual(self.heard_at('2026-10-26 08:00:00'), 'open')
        self.assertEqual(self.heard_at('2026-10-26 15:59:00'), 'open')     # 16:59 local
        self.assertEqual(self.heard_at('2026-10-26 16:00:00'), 'closed')   # 17:00 local

    def test_a_public_holiday_is_closed(self):
        # Tuesday 27 October, 10:00 in Brussels: a working day's hours, but a holiday.
        self.assertEqual(self.heard_at('2026-10-27 09:00:00'), 'closed')
        # The leave of one employee (with a resource) closes nothing.
        self.env['resource.calendar.leaves'].create({
            'name': 'Alice off', 'calendar_id': self.calendar.id,
            'resource_id': self.env['resource.resource'].create({
                'name': 'Alice', 'calendar_id': self.calendar.id}).id,
            'date_from': '2026-10-28 00:00:00', 'date_to': '2026-10-28 23:00:00'})
        self.assertEqual(self.heard_at('2026-10-28 09:00:00'), 'open')

    def test_open_across_midnight(self):
        # Friday 23 October 23:30 and Saturday 24 October 01:30 in Brussels (UTC+2).
        self.assertEqual(self.heard_at('2026-10-23 21:30:00'), 'open')
        self.assertEqual(self.heard_at('2026-10-23 23:30:00'), 'open')
        self.assertEqual(self.heard_at('2026-10-24 00:00:00'), 'closed')   # 02:00 local
        self.assertEqual(self.heard_at('2026-10-23 19:59:00'), 'closed')   # 21:59 local

    def test_the_path_says_open_or_closed(self):
        with freeze_time('2026-10-23 07:30:00'):
            call = self.driver.incoming_call(CALLER, self.number.phone_number)
        record = self.record(call)
        self.assertEqual([(step.state_ref, step.event) for step in record.step_ids],
                         [('hours', 'entered'), ('hours', 'open'), ('open', 'entered'),
                          ('open', 'next')])
        self.assertEqual(record.step_ids[1].description, 'Open')

    def test_validation_and_description(self):
        other_company = self.env['res.company'].create({'name': 'Other Co'})
        elsewhere = self.env['resource.calendar'].create({
            'name': 'Elsewhere', 'tz': 'Asia/Shanghai', 'company_id': other_company.id})
        definition = hours_definition(elsewhere.id)
        problems = self.flow.validate_definition(json.dumps(definition))
        self.assertEqual(problems, ['State "Office hours": working-hours calendar #%s does not '
                                    "exist in the flow's company." % elsewhere.id])
        definition['states']['hours']['calendar_id'] = None
        definition['states']['hours']['next']['busy'] = 'open'
        problems = self.flow.validate_definition(json.dumps(definition))
        self.assertEqual(len(problems), 2, problems)
        self.assertIn('cannot have a busy connection; it can have: open, closed', problems[0])
        self.assertIn('choose the working hours', problems[1])
        # A calendar shared by every company may be used.
        shared = self.env['resource.calendar'].create({'name': 'Shared', 'company_id': False})
        self.assertEqual(self.flow.validate_definition(hours_definition(shared.id)), [])
        self.assertIn('Working hours: Brussels office (Europe/Brussels)', self.flow.draft_html)
        self.assertIn('Office hours —open→ Open', self.flow.draft_html)

    def test_engine_validation_is_plain_python(self):
        definition = hours_definition(7)
        self.assertEqual(validation.validate_definition(definition, calendars={7}), [])
        self.assertEqual(len(validation.validate_definition(definition, calendars={8})), 1)
        lines = description.describe_definition(definition, calendars={7: 'HQ (UTC)'})[0]
        self.assertEqual((lines['type_label'], lines['settings'][0]),
                         ('Business hours', 'Working hours: HQ (UTC)'))
