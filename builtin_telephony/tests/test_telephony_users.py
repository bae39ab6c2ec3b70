"""Telephony users and groups (U1-U3): the tabs' records, routing states, sign-in order,
removal rules and access rights."""
import json
from datetime import timedelta
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import ADMIN_GROUPS, USER_GROUPS, TelephonyCase


@tagged('post_install', '-at_install')
class TelephonyUsersCase(TelephonyCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agents = [new_test_user(cls.env, f'agent{index}', groups=USER_GROUPS, name=f"Agent {index}")
                      for index in range(4)]
        cls.TelephonyUser = cls.env['telephony.user'].with_user(cls.telephony_admin)

    def _telephony_user(self, user, **values):
        return self.TelephonyUser.create(dict({'user_id': user.id}, **values))

    def _number(self, phone_number='+14155550142', account=None):
        """A number of the company, as a purchase leaves it (buying is test_numbers' business)."""
        return self.env['telephony.number'].create({
            'phone_number': phone_number, 'account_id': (account or self.account).id,
            'country_id': self.env.ref('base.us').id, 'number_type': 'local'})

    def _call(self, user, status, direction='outbound', **values):
        self._call_count = getattr(self, '_call_count', 0) + 1
        return self.env['telephony.call'].create(dict({
            'provider_sid': f'CA{self._call_count:032d}', 'direction': direction, 'status': status,
            'user_id': user.id if user else False, 'from_number': '+14155550100',
            'to_number': '+14155550101'}, **values))

    def _publish_flow(self, state):
        flow = self.env['telephony.flow'].with_user(self.telephony_admin).create({
            'name': "Front desk",
            'definition': json.dumps({'start': 'first', 'states': {'first': state}}),
        })
        flow.action_publish()
        self.assertEqual(flow.state, 'published')
        return flow


class TestTelephonyUsers(TelephonyUsersCase):

    def test_add_a_user_from_the_telephony_users_tab(self):
        number = self._number()
        group = self.env['telephony.group'].create({'name': "Sales"})
        self.account.with_user(self.telephony_admin).write({'telephony_user_ids': [Command.create({
            'user_id': self.agents[0].id, 'group_ids': [Command.link(group.id)],
            'allow_outbound': True, 'record_outbound': True,
            'caller_id_number_ids': [Command.link(number.id)], 'allow_custom_caller_id': True,
        })]})
        telephony_user = self.account.telephony_user_ids
        self.assertEqual(telephony_user.user_id, self.agents[0])
        self.assertEqual(telephony_user.company_id, self.company)
        self.assertEqual(telephony_user.group_ids, group)
        self.assertEqual(group.member_ids, telephony_user)
        self.assertTrue(telephony_user.record_outbound)
        self.assertEqual(telephony_user._get_outgoing_caller_ids(), [number.phone_number])
        self.assertEqual(telephony_user.availability, 'offline')

    def test_one_telephony_user_per_user_and_company(self):
        self._telephony_user(self.agents[0])
        with mute_logger('odoo.sql_db'), self.assertRaises(IntegrityError):
            self._telephony_user(self.agents[0])

    def test_caller_ids_are_numbers_of_the_company(self):
        other = self.env['res.company'].create({'name': "Other Co"})
        foreign_number = self._number(account=self.env['telephony.account']._get_for_company(other))
        with self.assertRaises(UserError):
            self._telephony_user(self.agents[0], caller_id_number_ids=[Command.link(foreign_number.id)])

    def test_outgoing_caller_id_checks(self):
        number = self._number()
        telephony_user = self._telephony_user(self.agents[0], caller_id_number_ids=[Command.link(number.id)])
        self.assertEqual(telephony_user._check_outgoing_caller_id(number.phone_number), number.phone_number)
        with self.assertRaisesRegex(UserError, "neither one of their outgoing caller IDs"):
            telephony_user._check_outgoing_caller_id('+14155550199')
        telephony_user.allow_outbound = False
        with self.assertRaisesRegex(UserError, "not allowed to make outgoing calls"):
            telephony_user._check_outgoing_caller_id(number.phone_number)

    def test_client_identity(self):
        telephony_user = self._telephony_user(self.agents[0])
        identity = f'user_{self.agents[0].id}_{self.company.id}'
        self.assertEqual(telephony_user.client_identity, identity)
        Users = self.env['telephony.user']
        self.assertEqual(Users._from_client_identity(f'client:{identity}'), telephony_user)
        self.assertEqual(Users._from_client_identity(identity), telephony_user)
        self.assertFalse(Users._from_client_identity('client:user_0_0'))

    def test_removing_a_user_used_by_a_published_flow_is_refused_with_its_name(self):
        used, unused = self._telephony_user(self.agents[0]), self._telephony_user(self.agents[1])
        self._publish_flow({'type': 'transfer_user', 'name': "Reception", 'user_id': used.id,
                            'record': False, 'ring_timeout': 20, 'queue': {'enabled': False},
                            'next': {}})
        with self.assertRaisesRegex(UserError, 'published call flow Front desk'):
            used.unlink()
        unused.unlink()
        self.assertFalse(unused.exists())
        self.assertTrue(used.exists())

    def test_a_draft_flow_does_not_hold_a_user(self):
        telephony_user = self._telephony_user(self.agents[0])
        self.env['telephony.flow'].create({'name': "Draft", 'definition': json.dumps({
            'start': 'a', 'states': {'a': {'type': 'transfer_user', 'user_id': telephony_user.id}}})})
        telephony_user.unlink()
        self.assertFalse(telephony_user.exists())


class TestAvailability(TelephonyUsersCase):

    def test_signed_in_at_follows_availability(self):
        telephony_user = self._telephony_user(self.agents[0])
        self.assertFalse(telephony_user.signed_in_at)
        with patch.object(fields.Datetime, 'now', lambda: fields.Datetime.to_datetime('2025-03-01 09:00:00')):
            telephony_user.availability = 'available'
        self.assertEqual(telephony_user.signed_in_at, fields.Datetime.to_datetime('2025-03-01 09:00:00'))
        # The softphone registering again keeps the user's place in the line.
        telephony_user.availability = 'available'
        self.assertEqual(telephony_user.signed_in_at, fields.Datetime.to_datetime('2025-03-01 09:00:00'))
        telephony_user.availability = 'offline'
        self.assertFalse(telephony_user.signed_in_at)

    def test_members_in_sign_in_order(self):
        users = [self._telephony_user(agent) for agent in self.agents]
        group = self.env['telephony.group'].create({'name': "Support", 'member_ids': [
            Command.link(user.id) for user in users]})
        for user, minute in ((users[2], 1), (users[0], 2), (users[3], 3)):
            with patch.object(fields.Datetime, 'now',
                              lambda minute=minute: fields.Datetime.to_datetime(f'2025-03-01 09:0{minute}:00')):
                user.availability = 'available'
        users[3].availability = 'offline'
        self.assertEqual(group._members_in_sign_in_order().ids,
                         [users[2].id, users[0].id, users[1].id, users[3].id])

    def test_routing_states(self):
        free, on_call, ringing, offline_on_call = users = [
            self._telephony_user(agent, availability='available') for agent in self.agents]
        offline_on_call.availability = 'offline'
        self._call(on_call.user_id, 'in_progress')
        self._call(ringing.user_id, 'ringing', direction='inbound')
        self._call(offline_on_call.user_id, 'in_progress')
        self._call(free.user_id, 'completed')
        # A call that lost its final callback hours ago does not keep its owner busy forever.
        stale = self._call(free.user_id, 'in_progress')
        stale.flush_recordset()
        self.env.cr.execute("UPDATE telephony_call SET start_date = %s WHERE id = %s",
                            (fields.Datetime.now() - timedelta(hours=5), stale.id))
        # An incoming call ringing a group has no owner: nobody is busy because of it.
        self._call(None, 'ringing', direction='inbound')
        states = self.env['telephony.user'].browse([u.id for u in users])._get_routing_states()
        self.assertEqual(states, {free.id: 'available', on_call.id: 'busy', ringing.id: 'busy',
                                  offline_on_call.id: 'offline'})
        self.env.invalidate_all()
        self.assertEqual(
            [u.is_busy for u in self.env['telephony.user'].browse([u.id for u in users])],
            [False, True, True, True])

    def test_routing_states_cost_the_same_queries_for_any_number_of_users(self):
        few = self.env['telephony.user'].browse(
            [self._telephony_user(agent, availability='available').id for agent in self.agents[:2]])
        more_users = [new_test_user(self.env, f'extra{index}', groups=USER_GROUPS) for index in range(8)]
        many = few + self.env['telephony.user'].browse(
            [self._telephony_user(user, availability='available').id for user in more_users])
        self._call(many[-1].user_id, 'in_progress')
        self.env.invalidate_all()
        with self.assertQueryCount(2):
            few._get_routing_states()
        self.env.invalidate_all()
        with self.assertQueryCount(2):
            states = many._get_routing_states()
        self.assertEqual(list(states.values()).count('busy'), 1)

    def test_users_set_their_availability_in_their_preferences(self):
        telephony_user = self._telephony_user(self.telephony_salesman)
        me = self.telephony_salesman.with_user(self.telephony_salesman)
        self.assertTrue(me.is_telephony_user)
        self.assertEqual(me.telephony_availability, 'offline')
        # Written the way the Preferences dialog writes it: on their own user, without any right
        # on telephony.user.
        me.write({'telephony_availability': 'available'})
        self.assertEqual(telephony_user.availability, 'available')
        self.assertTrue(telephony_user.signed_in_at)
        self.assertIn('telephony_availability', me.SELF_WRITEABLE_FIELDS)
        outsider = new_test_user(self.env, 'outsider', groups=USER_GROUPS)
        with self.assertRaisesRegex(UserError, 'not a telephony user'):
            outsider.with_user(outsider).write({'telephony_availability': 'available'})


class TestTelephonyGroups(TelephonyUsersCase):

    def test_create_edit_delete_a_group_from_its_tab(self):
        members = [self._telephony_user(agent) for agent in self.agents[:2]]
        account = self.account.with_user(self.telephony_admin)
        account.write({'telephony_group_ids': [Command.create({
            'name': "Billing experts", 'description': "Invoices and refunds",
            'member_ids': [Command.set([m.id for m in members])]})]})
        group = account.telephony_group_ids
        self.assertEqual(group.company_id, self.company)
        self.assertEqual(group.member_count, 2)
        self.assertEqual(members[0].group_ids, group)
        account.write({'telephony_group_ids': [Command.update(group.id, {
            'name': "Billing", 'member_ids': [Command.unlink(members[1].id)]})]})
        self.assertEqual((group.name, group.member_ids), ("Billing", members[0]))
        account.write({'telephony_group_ids': [Command.delete(group.id)]})
        self.assertFalse(group.exists())
        self.assertFalse(members[0].group_ids)

    def test_filter_users_by_group(self):
        sales = self.env['telephony.group'].create({'name': "Sales"})
        support = self.env['telephony.group'].create({'name': "Support"})
        seller = self._telephony_user(self.agents[0], group_ids=[Command.link(sales.id)])
        helper = self._telephony_user(self.agents[1], group_ids=[Command.link(support.id)])
        both = self._telephony_user(self.agents[2], group_ids=[Command.link(sales.id), Command.link(support.id)])
        action = sales.action_open_members()
        self.assertEqual(action['res_model'], 'telephony.user')
        self.assertEqual(action['context'], {'search_default_group_ids': sales.id})
        # What the search view's group filter does with that default.
        found = self.env['telephony.user'].search([('group_ids', 'in', [sales.id])])
        self.assertEqual(found, seller + both)
        self.assertNotIn(helper, found)

    def test_deleting_a_group_used_by_a_published_flow_is_refused_with_its_name(self):
        member = self._telephony_user(self.agents[0])
        group = self.env['telephony.group'].create({'name': "Support", 'member_ids': [Command.link(member.id)]})
        self._publish_flow({'type': 'transfer_group', 'name': "Support", 'group_id': group.id,
                            'ring_strategy': 'parallel', 'ring_timeout': 30, 'user_timeout': 15,
                            'record': False, 'queue': {'enabled': False}, 'next': {}})
        with self.assertRaisesRegex(UserError, 'published call flow Front desk'):
            group.with_user(self.telephony_admin).unlink()
        self.assertTrue(group.exists())


class TestTelephonyUsersAccess(TelephonyUsersCase):

    def test_telephony_users_see_users_and_groups_but_change_nothing(self):
        colleague = self._telephony_user(self.agents[0])
        group = self.env['telephony.group'].create({'name': "Sales", 'member_ids': [Command.link(colleague.id)]})
        salesman = self.telephony_salesman
        self.assertEqual(colleague.with_user(salesman).name, "Agent 0")
        self.assertEqual(group.with_user(salesman).member_ids, colleague)
        for denied in (
            lambda: colleague.with_user(salesman).write({'allow_outbound': False}),
            lambda: colleague.with_user(salesman).unlink(),
            lambda: self.env['telephony.user'].with_user(salesman).create({'user_id': salesman.id}),
            lambda: group.with_user(salesman).write({'name': "Mine"}),
            lambda: group.with_user(salesman).unlink(),
            lambda: self.env['telephony.group'].with_user(salesman).create({'name': "Mine"}),
        ):
            with self.assertRaises(AccessError):
                denied()

    def test_administrators_manage_them(self):
        admin = new_test_user(self.env, 'second_admin', groups=ADMIN_GROUPS)
        telephony_user = self.env['telephony.user'].with_user(admin).create({'user_id': self.agents[0].id})
        telephony_user.write({'record_outbound': True})
        group = self.env['telephony.group'].with_user(admin).create({'name': "Sales"})
        group.write({'member_ids': [Command.link(telephony_user.id)]})
        self.assertEqual(telephony_user.group_ids, group)
        group.unlink()
        telephony_user.unlink()
        self.assertFalse(telephony_user.exists())

    def test_users_of_another_company_are_not_visible(self):
        other = self.env['res.company'].create({'name': "Other Co"})
        hidden = self.env['telephony.user'].with_company(other).create({'user_id': self.agents[0].id})
        self.assertEqual(hidden.company_id, other)
        visible = self.env['telephony.user'].with_user(self.telephony_salesman).search([])
        self.assertNotIn(hidden, visible)
