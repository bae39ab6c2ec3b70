import time
from datetime import timedelta

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools.phone import to_e164

# A call still "ringing" or "in progress" after this long lost its final status callback: Twilio
# ends every call after 4 hours at most (the maximum, and default, <Dial timeLimit>), so it no
# longer makes its owner busy.
MAX_CALL_DURATION = timedelta(hours=4)
LIVE_CALL_STATUSES = ('ringing', 'in_progress')
AVAILABILITY = [('available', "Available"), ('offline', "Offline")]
# Lifetime of the softphone's access tokens (Twilio allows up to 24 h; docs/contracts.md: 1 h at most).
SOFTPHONE_TOKEN_TTL = 3600
RECENT_CALLS = 10


class TelephonyUser(models.Model):
    """An Odoo user who may place and answer calls, in one company (U1, U3)."""
    _name = 'telephony.user'
    _inherit = ['telephony.account.mixin']
    _description = "Telephony User"
    _order = 'name, id'

    user_id = fields.Many2one('res.users', string="User", required=True, index=True,
                              ondelete='cascade', domain="[('share', '=', False)]")
    name = fields.Char(related='user_id.name', store=True)
    # Stored so that routing reads it with the rest (no query per webhook): a deactivated Odoo
    # user (someone who left) is neither rung nor allowed to call out.
    user_active = fields.Boolean(related='user_id.active', store=True)
    group_ids = fields.Many2many(
        'telephony.group', 'telephony_group_member_rel', 'user_id', 'group_id',
        string="Telephony groups", check_company=True)
    allow_outbound = fields.Boolean("Allow outgoing calls", default=True)
    record_outbound = fields.Boolean("Record outgoing calls made by this user")
    daily_spend_limit = fields.Float(
        "Daily limit of outgoing calls", digits=(16, 2), default=0.0,
        groups='builtin_telephony.group_telephony_admin',
        help="Credits this user's outgoing calls may spend per day, calls in progress included "
             "(0: no limit of their own; the company's limit applies too).")
    caller_id_number_ids = fields.Many2many(
        'telephony.number', string="Outgoing caller IDs", check_company=True,
        help="The purchased numbers this user may show to the people they call.")
    allow_custom_caller_id = fields.Boolean(
        "Allow custom outgoing caller IDs",
        help="Let the user call from a verified number of their own (e.g. a support line), so "
             "that callbacks reach it.")
    custom_caller_id_ids = fields.One2many(
        'telephony.caller.id', 'telephony_user_id', string="Custom caller IDs",
        help="Numbers of the user's own; only verified ones can be shown to the people called.")
    availability = fields.Selection(
        AVAILABILITY, required=True, default='offline',
        help="Set by the softphone: available while the user is signed in.")
    signed_in_at = fields.Datetime(
        "Signed in at", readonly=True, copy=False,
        help="When the user last became available; sequential ringing follows this order.")
    is_busy = fields.Boolean(compute='_compute_is_busy', help="On a call right now.")
    client_identity = fields.Char(
        compute='_compute_client_identity', store=True, index=True,
        help="The Twilio Client identity of the user's softphone (a <Client> in <Dial>).")

    _sql_constraints = [
        ('user_company_uniq', 'unique(user_id, company_id)',
         "This user is already a telephony user of this company."),
    ]

    # ------------------------------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------------------------------

    @api.depends('user_id', 'company_id')
    def _compute_client_identity(self):
        for telephony_user in self:
            telephony_user.client_identity = telephony_user._make_client_identity(
                telephony_user.user_id.id, telephony_user.company_id.id)

    @staticmethod
    def _make_client_identity(user_id, company_id):
        # Twilio identities allow [A-Za-z0-9_]; the pair is unique (user_company_uniq).
        return f'user_{user_id}_{company_id}' if user_id and company_id else False

    def _compute_is_busy(self):
        busy_users = self._busy_user_ids()
        for telephony_user in self:
            telephony_user.is_busy = telephony_user.user_id.id in busy_users

    def _busy_user_ids(self):
        """The ids of the Odoo users of ``self`` on a call now, in one query.

        A user is busy while a call they own is ringing or in progress, in either direction:
        outgoing, or incoming and put through to them. An incoming call ringing a whole group
        has no owner until someone answers, so it makes nobody busy before that. Busy is a fact
        about the person, so calls of every company count.
        """
        if not self:
            return set()
        busy_users = self.env['telephony.call'].sudo()._read_group(
            [('user_id', 'in', self.user_id.ids), ('status', 'in', LIVE_CALL_STATUSES),
             ('start_date', '>=', fields.Datetime.now() - MAX_CALL_DURATION)],
            ['user_id'])
        return {user.id for user, in busy_users}

    # ------------------------------------------------------------------------------------------
    # Routing (read by the call-routing webhook on every call)
    # ------------------------------------------------------------------------------------------

    def _get_routing_states(self):
        """``{telephony.user id: 'available' | 'busy' | 'offline'}`` for the users of ``self``.

        Two queries whatever the number of users (their availability, their live calls).
        Offline wins over busy: a user signed out of the softphone cannot be rung even if a
        call of theirs is still going on elsewhere.
        """
        users = self.sudo()
        available = users.filtered(lambda u: u.availability == 'available' and u.user_active)
        busy = available._busy_user_ids()
        return {
            telephony_user.id: (
                'offline' if telephony_user not in available
                else 'busy' if telephony_user.user_id.id in busy
                else 'available')
            for telephony_user in users
        }

    @api.model
    def _from_client_identity(self, identity):
        """The telephony user (sudo) of a softphone's Twilio Client identity, or an empty
        recordset. Accepts the ``client:`` prefix Twilio puts in ``From``/``To``."""
        identity = (identity or '').removeprefix('client:')
        if not identity:
            return self.sudo().browse()
        # A deactivated Odoo user (someone who left) no longer calls through the company.
        return self.sudo().search([('client_identity', '=', identity), ('user_active', '=', True)], limit=1)

    # ------------------------------------------------------------------------------------------
    # Outgoing caller IDs
    # ------------------------------------------------------------------------------------------

    def _get_outgoing_caller_ids(self):
        """The E.164 numbers this user may show when calling out: their purchased numbers,
        then their verified custom caller IDs when those are allowed."""
        self.ensure_one()
        numbers = self.sudo().caller_id_number_ids.mapped('phone_number')
        if self.allow_custom_caller_id:
            numbers += [caller_id.phone_number for caller_id in self.sudo().custom_caller_id_ids
                        if caller_id.state == 'verified' and caller_id.phone_number not in numbers]
        return numbers

    def _check_outgoing_caller_id(self, phone_number):
        """``phone_number`` (E.164) if this user may call from it.

        :raise odoo.exceptions.UserError: the user may not call out, or may not use this number
            (e.g. a custom caller ID whose verification is not finished).
        """
        self.ensure_one()
        if not self.allow_outbound:
            raise UserError(_(
                "%(user)s is not allowed to make outgoing calls. A telephony administrator can "
                "allow it in Telephony > Built-in Telephony > Telephony users.",
                user=self.user_id.name))
        e164 = to_e164(phone_number, self.company_id.country_id.code, raise_exception=False)
        if e164 not in self._get_outgoing_caller_ids():
            raise UserError(_(
                "%(user)s cannot call from %(number)s: it is neither one of their outgoing caller "
                "IDs nor a verified custom caller ID. Pick another caller ID, or verify this "
                "number from your preferences.", user=self.user_id.name, number=phone_number))
        return e164

    # ------------------------------------------------------------------------------------------
    # The softphone (controllers/softphone.py)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _softphone_user(self):
        """The current user's telephony user in the current company (sudo).

        :raise odoo.exceptions.AccessError: the user is not a telephony user there; nothing
            of the softphone (token, state, calls) is given to them.
        """
        user = self.env.user
        telephony_user = user._telephony_user() if user.has_group(
            'builtin_telephony.group_telephony_user') and user.active and not user.share else False
        if not telephony_user:
            raise AccessError(_(
                "You are not a telephony user of %(company)s: ask a telephony administrator to "
                "add you in Telephony > Built-in Telephony > Telephony users.",
                company=self.env.company.name))
        return telephony_user

    def _softphone_token(self):
        """A Twilio Access Token for this user's softphone: their own identity, a VoiceGrant
        for the account's TwiML App (outgoing) and incoming calls, valid one hour."""
        self.ensure_one()
        account = self.account_id.sudo()
        key_sid, key_secret, app_sid = account._softphone_credentials()
        token = AccessToken(account.twilio_account_sid, key_sid, key_secret,
                            identity=self.client_identity, ttl=SOFTPHONE_TOKEN_TTL)
        token.add_grant(VoiceGrant(outgoing_application_sid=app_sid, incoming_allow=True))
        expires_at = int(time.time()) + SOFTPHONE_TOKEN_TTL
        return {
            'token': token.to_jwt(),
            'identity': self.client_identity,
            'expires_at': expires_at,
            'provider': account.provider,
        }

    def _softphone_state(self):
        """What the softphone shows when it starts: availability, caller IDs, recent calls."""
        self.ensure_one()
        return {
            'identity': self.client_identity,
            'provider': self.account_id.sudo().provider,
            'available': self.availability == 'available',
            'allow_outbound': self.allow_outbound,
            'caller_ids': self._get_outgoing_caller_ids(),
            'recent_calls': self._softphone_recent_calls(),
        }

    def _softphone_recent_calls(self):
        """The user's last calls, with the contact/lead matched when the user may read them."""
        self.ensure_one()
        calls = self.env['telephony.call'].with_user(self.user_id).search(
            ['|', ('user_id', '=', self.user_id.id), ('rung_user_ids', 'in', self.user_id.ids),
             ('company_id', '=', self.company_id.id)],
            limit=RECENT_CALLS)
        return [call._softphone_summary() for call in calls]

    def _softphone_set_available(self, available):
        self.ensure_one()
        self.availability = 'available' if available else 'offline'
        return self.availability == 'available'

    # ------------------------------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        now = fields.Datetime.now()
        for vals in vals_list:
            if vals.get('availability') == 'available':
                vals.setdefault('signed_in_at', now)
        telephony_users = super().create(vals_list)
        telephony_users.user_id._telephony_grant_access()
        return telephony_users

    def write(self, vals):
        if 'user_id' in vals:
            previous = self.user_id
            result = super().write(vals)
            self.user_id._telephony_grant_access()
            (previous - self.user_id)._telephony_revoke_access()
            return result
        if vals.get('availability') not in ('available', 'offline'):
            return super().write(vals)
        # Sign-in order is the order in which users *became* available: writing "available"
        # again (the softphone re-registering) keeps a user's place in the line.
        changing = self.filtered(lambda u: u.availability != vals['availability'])
        result = super().write(vals)
        signed_in_at = fields.Datetime.now() if vals['availability'] == 'available' else False
        super(TelephonyUser, changing).write({'signed_in_at': signed_in_at})
        return result

    def unlink(self):
        users = self.user_id
        result = super().unlink()
        users._telephony_revoke_access()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_published_flow(self):
        self.env['telephony.flow']._check_not_transferred_to(self, 'transfer_user', 'user_id', _(
            "%(name)s cannot be removed: the published call flow %(flows)s transfers calls "
            "to them. Change the flow and publish it again first."))
