import email.utils
import hashlib
import json
import logging
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytz

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL
from odoo.tools.sql import create_index

from .. import const
from ..tools import call_history, rating, speech, twiml, wallet_periods
from ..tools.flow import FlowError, runtime
from ..tools.flow.definition import EMAIL_TO_GROUP, EMAIL_TO_OWNER
from ..tools.phone import format_international, number_type_of, to_e164
from ..tools.provider_errors import TelephonyProviderError
from .flow_context import FlowContext
from .telephony_recording import CRON_TIME_BUDGET, _testing

_logger = logging.getLogger(__name__)

CALL_STATUSES = [
    ('ringing', "Ringing"), ('in_progress', "In progress"), ('completed', "Completed"),
    ('missed', "Missed"), ('busy', "Busy"), ('failed', "Failed"), ('rejected', "Rejected"),
    ('blocked', "Blocked"), ('voicemail', "Voicemail"), ('callback', "Call-back requested"),
]
# Twilio's CallStatus values of a call (or leg) that is over.
ENDED = ('completed', 'busy', 'no-answer', 'failed', 'canceled')
# Statuses decided before the end of the call, which Twilio's final callback must not overwrite.
DECIDED = ('rejected', 'blocked', 'failed', 'voicemail', 'callback')
# What the webhooks read of a call (the status callback's charge included), fetched with the
# search that finds it: one query.
WEBHOOK_FIELDS = ['status', 'direction', 'company_id', 'flow_version_id', 'user_id', 'answer_date',
                  'end_date', 'flow_outcome', 'answered_leg_sid', 'agent_end_date', 'queue_name',
                  'queue_state', 'duration', 'provider_sid', 'number_id', 'to_number', 'credits',
                  'start_date', 'reserved_credits', 'from_number', 'partner_id', 'lead_id', 'time_limit',
                  'last_action_key', 'flow_id', 'from_number_display', 'recording_duration']
# Queue hand-offs per search of their job, and how long after a provider failure one is tried again.
HANDOFF_BATCH = 20
HANDOFF_RETRY = timedelta(seconds=30)
# A voicemail's audio larger than this is linked in its e-mail rather than attached.
VOICEMAIL_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
# A voicemail's e-mail waits this long for its transcription, then goes without it: Twilio may
# never call back (its transcription service down, the message too long or silent), and the
# message must still reach someone. Voicemails older than the look-back are no longer sent.
TRANSCRIPTION_WAIT = timedelta(minutes=30)
TRANSCRIPTION_LOOK_BACK = timedelta(days=2)
# <Dial> outcome of an outgoing call → its status.
OUTBOUND_DIAL_STATUS = {'completed': 'completed', 'answered': 'completed', 'busy': 'busy',
                        'no-answer': 'missed', 'canceled': 'missed', 'failed': 'failed'}
# The call types of the call history (H1): an incoming call nobody answered is missed.
CALL_TYPES = [('incoming', "Incoming"), ('outgoing', "Outgoing"), ('missed', "Missed")]
MISSED_STATUSES = ('missed', 'busy', 'voicemail', 'callback')


class TelephonyCall(models.Model):
    """One call, incoming or outgoing, as the provider reported it (H1).

    Incoming calls are walked through their flow by the Twilio webhooks (``_twilio_*``
    methods, called by ``controllers/voice.py``): the flow engine decides the TwiML, this model
    feeds it the users' availability and the queues (:class:`FlowContext`) and keeps what it
    decided: each step, the owner, the status.
    """
    _name = 'telephony.call'
    _inherit = ['mail.thread', 'mail.activity.mixin']
    _description = "Call"
    # Who may read a call may write a note on it (from its form or the softphone).
    _mail_post_access = 'read'
    _order = 'start_date desc, id desc'
    _rec_name = 'provider_sid'

    provider_sid = fields.Char("Call SID", required=True, readonly=True, copy=False)
    rung_user_ids = fields.Many2many(
        'res.users', 'telephony_call_rung_user_rel', 'call_id', 'user_id', string="Rang",
        readonly=True, copy=False,
        help="The users whose softphones the flow rang for this call: they see it when it was "
             "missed or left a voicemail.")
    # What a user who may not read the matched lead/contact sees instead of a link (SPEC C3).
    lead_name = fields.Char("Lead name", compute='_compute_record_names')
    partner_name = fields.Char("Contact name", compute='_compute_record_names')
    can_read_lead = fields.Boolean(compute='_compute_record_names')
    can_read_partner = fields.Boolean(compute='_compute_record_names')
    direction = fields.Selection(const.DIRECTIONS, required=True, readonly=True, index=True)
    status = fields.Selection(CALL_STATUSES, required=True, default='ringing', index=True)
    from_number = fields.Char("From", readonly=True, index=True)
    to_number = fields.Char("To", readonly=True, index=True)
    # How a person reads them (I6): international format; the data and searches keep E.164.
    # Stored: formatting a number (phonenumbers) costs more than reading it, and every page of
    # the call history shows two per row (bench/bench_call_history.py).
    from_number_display = fields.Char("From (formatted)", compute='_compute_numbers_display',
                                      store=True, precompute=True)
    to_number_display = fields.Char("To (formatted)", compute='_compute_numbers_display',
                                    store=True, precompute=True)
    number_id = fields.Many2one('telephony.number', string="Our number", readonly=True,
                                ondelete='set null', index='btree_not_null')
    company_id = fields.Many2one('res.company', required=True, index=True, readonly=True,
                                 default=lambda self: self.env.company)
    user_id = fields.Many2one('res.users', string="Call owner", index=True)
    partner_id = fields.Many2one('res.partner', string="Contact", index='btree_not_null')
    lead_id = fields.Many2one('crm.lead', string="Lead", index='btree_not_null')
    flow_id = fields.Many2one('telephony.flow', string="Call flow", readonly=True,
                              ondelete='set null')
    flow_version_id = fields.Many2one(
        'telephony.flow.version', string="Flow version", readonly=True, ondelete='set null',
        help="The published version the call ran: republishing does not change calls in progress.")
    start_date = fields.Datetime(default=fields.Datetime.now, readonly=True, index=True)
    answer_date = fields.Datetime(readonly=True)
    end_date = fields.Datetime(readonly=True)
    duration = fields.Integer("Duration (s)", readonly=True)
    recording_duration = fields.Integer("Recording duration (s)", readonly=True)
    credits = fields.Float("Credits charged", digits=(16, 4), readonly=True)
    # What a live call may spend (B5): its time limit, and the credits that limit reserves under
    # the daily spending limits until the call is charged.
    time_limit = fields.Integer("Time limit (s)", readonly=True, copy=False)
    # Voicemail (B4): the provider's transcription of the message, and whether it was e-mailed.
    transcription = fields.Text("Voicemail transcription", readonly=True, copy=False)
    transcription_sid = fields.Char(readonly=True, copy=False)
    voicemail_emailed = fields.Boolean(readonly=True, copy=False)
    reserved_credits = fields.Float(digits=(16, 4), readonly=True, copy=False)
    recording_ids = fields.One2many('telephony.recording', 'call_id', string="Recordings")
    call_type = fields.Selection(
        CALL_TYPES, compute='_compute_call_type', store=True, precompute=True, index=True, readonly=True,
        help="Missed: an incoming call that nobody answered (missed, busy, sent to voicemail or "
             "left with a call-back request).")
    missed_percent = fields.Float(
        "Missed (%)", compute='_compute_call_type', store=True, precompute=True, aggregator='avg',
        digits=(5, 1),
        help="100 for a missed call, 0 otherwise: its average is the share of missed calls.")
    recording_id = fields.Many2one(
        'telephony.recording', compute='_compute_recording_id', string="Recording",
        help="The audio kept of this call, played from the call history.")
    step_ids = fields.One2many('telephony.call.step', 'call_id', string="Path", readonly=True)
    flow_outcome = fields.Char(
        readonly=True, help="How the flow ended the call ('busy', 'missed'...), read when "
                            "Twilio reports the end of the call.")
    answered_leg_sid = fields.Char(
        readonly=True, copy=False,
        help="CallSid of the softphone leg that answered (the owner's).")
    agent_end_date = fields.Datetime(readonly=True, copy=False,
                                     help="When the owner's leg ended (the owner became free).")
    queue_name = fields.Char(
        readonly=True, index='btree_not_null', copy=False,
        help="The Twilio queue the caller is waiting in now.")
    queue_state = fields.Char(readonly=True, copy=False,
                              help="The flow state that put the caller in the queue.")
    queued_date = fields.Datetime(readonly=True, copy=False)
    handoff_user_id = fields.Many2one(
        'telephony.user', string="Handed to", readonly=True, copy=False, ondelete='set null',
        index='btree_not_null',
        help="A telephony user became free for this waiting caller: the hand-off job takes the "
             "caller out of the queue to ring them.")
    next_handoff_date = fields.Datetime(
        "Next hand-off attempt", readonly=True, copy=False, help="When the hand-off is tried again after the provider failed.")
    # A digest of the last flow action answered: Twilio's retry of it is answered again, not
    # walked again.
    last_action_key = fields.Char(readonly=True, copy=False)

    _sql_constraints = [
        ('provider_sid_uniq', 'unique(provider_sid)', "A call is recorded once."),
    ]

    @api.depends('from_number', 'to_number')
    def _compute_numbers_display(self):
        for call in self:
            call.from_number_display = format_international(call.from_number)
            call.to_number_display = format_international(call.to_number)

    @api.depends('from_number', 'to_number')
    def _compute_display_name(self):
        # The breadcrumb and the links read "who called whom", not the provider's CallSid.
        for call in self:
            call.display_name = "%s → %s" % (format_international(call.from_number) or '?',
                                             format_international(call.to_number) or '?')

    @api.depends_context('uid')
    @api.depends('lead_id', 'partner_id')
    def _compute_record_names(self):
        for call in self:
            lead, partner = call.sudo().lead_id, call.sudo().partner_id
            call.lead_name = lead.name or False
            call.partner_name = partner.display_name or False
            call.can_read_lead = bool(call._readable_record(call.lead_id))
            call.can_read_partner = bool(call._readable_record(call.partner_id))

    def _softphone_summary(self):
        """A call as the softphone's recent calls list it: the other party's number and the
        contact/lead it was matched to, named only when the user may read them."""
        self.ensure_one()
        lead, partner = self._readable_record(self.lead_id), self._readable_record(self.partner_id)
        return {
            'id': self.id,
            'direction': self.direction,
            'status': self.status,
            'number': (self.to_number if self.direction == 'outbound' else self.from_number) or '',
            'number_display': (self.to_number_display if self.direction == 'outbound'
                               else self.from_number_display) or '',
            'name': (lead or partner).display_name or False,
            'lead_id': lead.id,
            'partner_id': partner.id,
            'start_date': fields.Datetime.to_string(self.start_date) or False,
            'duration': self.duration,
        }

    def _readable_record(self, record):
        """``record`` if the current user may read it, else an empty recordset."""
        if not record:
            return record
        try:
            record.with_env(self.env).check_access('read')
        except AccessError:
            return record.browse()
        return record.with_env(self.env)

    @api.model_create_multi
    def create(self, vals_list):
        # Calls are created by webhooks, on the caller's time: no "created" message, no
        # follower; their chatter is for the notes people write.
        calls = super(TelephonyCall, self.with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True, mail_notrack=True)).create(vals_list)
        return calls.with_env(self.env)

    @api.depends('direction', 'status')
    def _compute_call_type(self):
        for call in self:
            if call.direction == 'outbound':
                call.call_type = 'outgoing'
            else:
                call.call_type = 'missed' if call.status in MISSED_STATUSES else 'incoming'
            call.missed_percent = 100.0 if call.call_type == 'missed' else 0.0

    @api.depends('recording_ids.state')
    def _compute_recording_id(self):
        # One query for a page of the call history, not the calls' recordings one by one (their
        # record rules apply: a recording the user may not read is not shown).
        recordings = self.env['telephony.recording'].search_fetch(
            [('call_id', 'in', self.ids), ('state', '=', 'stored')], ['call_id'], order='date desc, id desc')
        first = {}
        for recording in recordings:
            first.setdefault(recording.call_id.id, recording)
        for call in self:
            call.recording_id = first.get(call.id, False)

    # ------------------------------------------------------------------------------------------
    # Call history (requirements H1, H2): the Call history tab and its CSV download
    # ------------------------------------------------------------------------------------------

    @api.model
    def _history_domain(self, call_type=None, user_id=None, date_from=None, date_to=None,
                        period=None, domain=None):
        """The domain of the call history filtered as asked, and the period's first and last day.

        Dates are days in the user's time zone, both included; ``period`` is one of the credit
        analytics' presets (``tools.wallet_periods.PERIODS``), ``custom`` meaning ``date_from``
        and ``date_to``. ``domain`` (a list, or its JSON) is added as is.

        :raise ValueError: a parameter is wrong; the message names it and says why
        :return: ``(domain, first day or None, last day or None)``
        """
        result = []
        if call_type:
            if call_type not in dict(CALL_TYPES):
                raise ValueError(self.env._(
                    "call_type must be one of %(types)s, not %(value)r.",
                    types=", ".join(dict(CALL_TYPES)), value=call_type))
            result.append(('call_type', '=', call_type))
        if user_id:
            try:
                user_id = int(user_id)
            except (TypeError, ValueError):
                user_id = 0
            if user_id <= 0:
                raise ValueError(self.env._("user_id must be the id of a user (a positive integer)."))
            result.append(('user_id', '=', user_id))
        first = self._history_date('date_from', date_from)
        last = self._history_date('date_to', date_to)
        if period and period != 'custom':
            if period not in wallet_periods.PERIODS:
                raise ValueError(self.env._(
                    "period must be one of %(periods)s, not %(value)r.",
                    periods=", ".join(wallet_periods.PERIODS), value=period))
            start, end = wallet_periods.period_range(period, fields.Date.context_today(self))
            first, last = start, end - timedelta(days=1)
        elif first and last and first > last:
            raise ValueError(self.env._("date_from (%(first)s) is after date_to (%(last)s).",
                                        first=first, last=last))
        if first:
            result.append(('start_date', '>=', self._history_day_start(first)))
        if last:
            result.append(('start_date', '<', self._history_day_start(last + timedelta(days=1))))
        if domain:
            if isinstance(domain, str):
                try:
                    domain = json.loads(domain)
                except ValueError:
                    raise ValueError(self.env._("domain must be an Odoo domain in JSON.")) from None
            if not isinstance(domain, list):
                raise ValueError(self.env._("domain must be an Odoo domain in JSON, a list."))
            try:
                # Unknown fields and malformed terms are refused here rather than mid-download.
                self._where_calc(domain)
            except Exception as error:  # noqa: BLE001 -- whatever the domain parser rejects
                raise ValueError(self.env._("domain is not a valid domain of calls: %(error)s",
                                            error=error)) from None
            result = expression.AND([result, domain])
        return result, first, last

    def _history_date(self, name, value):
        if not value:
            return None
        try:
            return fields.Date.to_date(value)
        except ValueError:
            raise ValueError(self.env._("%(name)s must be a date as YYYY-MM-DD, not %(value)r.",
                                        name=name, value=value)) from None

    def _history_tz(self):
        return self.env.context.get('tz') or self.env.user.tz or 'UTC'

    def _history_day_start(self, day):
        """Midnight of ``day`` in the user's time zone, as a naive UTC datetime."""
        tz = pytz.timezone(self._history_tz())
        local = tz.localize(datetime.combine(day, datetime.min.time()))
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    @api.model
    def get_call_history(self, call_type=False, user_id=False, period=False, date_from=False,
                         date_to=False, offset=0, limit=50):
        """One page of the call history as the user may see it (their own calls, or every call
        for administrators), filtered like ``_history_domain``, newest first.

        :return: ``{'length', 'date_from', 'date_to', 'export_url', 'records': [{'id',
            'start_date' (UTC), 'call_type', 'call_type_label', 'user', 'from_number', 'to_number'
            (E.164) and their ``_display`` (international format),
            'duration', 'recording_duration', 'credits', 'status', 'status_label', 'contact',
            'lead', 'recording_id'}]}``
        """
        try:
            domain, first, last = self._history_domain(call_type, user_id, period=period,
                                                       date_from=date_from, date_to=date_to)
        except ValueError as error:
            raise UserError(str(error)) from None
        calls = self.search(domain, offset=int(offset or 0), limit=int(limit or 50))
        types = dict(self._fields['call_type']._description_selection(self.env))
        statuses = dict(self._fields['status']._description_selection(self.env))
        export = {key: value for key, value in (
            ('call_type', call_type), ('user_id', user_id),
            ('date_from', first and fields.Date.to_string(first)),
            ('date_to', last and fields.Date.to_string(last))) if value}
        # The contact and lead are named only where the user may read them.
        contacts, leads = self._history_readable(calls.partner_id), self._history_readable(calls.lead_id)
        return {
            'length': self.search_count(domain),
            'date_from': first and fields.Date.to_string(first),
            'date_to': last and fields.Date.to_string(last),
            'export_url': const.CALLS_EXPORT_ROUTE + ('?' + urlencode(export) if export else ''),
            'records': [{
                'id': call.id,
                'start_date': fields.Datetime.to_string(call.start_date),
                'call_type': call.call_type,
                'call_type_label': types.get(call.call_type, ''),
                'user': call.user_id.sudo().name or '',
                'from_number': call.from_number or '',
                'to_number': call.to_number or '',
                'from_number_display': call.from_number_display or '',
                'to_number_display': call.to_number_display or '',
                'duration': call.duration,
                'recording_duration': call.recording_duration,
                'credits': call.credits,
                'status': call.status,
                'status_label': statuses.get(call.status, ''),
                'contact': call.partner_id in contacts and call.partner_id.display_name or '',
                'lead': call.lead_id in leads and call.lead_id.display_name or '',
                'recording_id': call.recording_id.id,
            } for call in calls],
        }

    def _history_readable(self, records):
        """Those of ``records`` the user may read (none without access to their model)."""
        records = records.with_env(self.env)
        if not records or not records.has_access('read'):
            return records.browse()
        return records._filtered_access('read')

    def _history_readable_ids(self, model):
        """SQL of the ids of ``model`` the user may read (access rules applied), or None when
        they may read none."""
        records = self.env[model].with_context(active_test=False)
        if not records.has_access('read'):
            return None
        return records._search([]).subselect()

    def action_play_recording(self):
        """The row's play button: the recording in the browser's player, through the
        access-checked playback route."""
        self.ensure_one()
        if not self.recording_id:
            raise UserError(self.env._("This call has no stored recording."))
        return {'type': 'ir.actions.act_url', 'url': self.recording_id.audio_url, 'target': 'new'}

    @api.model
    def _history_csv(self, domain):
        """The calls of ``domain`` that the user may read, as CSV bytes, newest first.

        The query (access rules included, dates in the user's time zone, labels in their
        language, formula cells escaped) is built now, in the user's environment; PostgreSQL
        writes the CSV itself (``COPY … TO STDOUT``) once the request's own cursor is gone, on a
        cursor of its own, and its output is sent on as it comes, in chunks of a bounded queue
        (``tools/call_history.stream_csv``): memory stays flat however many calls are exported.
        """
        self.flush_model()
        self.env['res.users'].flush_model(['partner_id'])
        self.env['res.partner'].flush_model(['name'])
        self.env['crm.lead'].flush_model(['name'])
        query = self._search(domain, order='start_date desc, id desc')
        table = self._table
        owner = query.left_join(table, 'user_id', 'res_users', 'id', 'user_id')
        owner_partner = query.left_join(owner, 'partner_id', 'res_partner', 'id', 'partner_id')
        contact = query.left_join(table, 'partner_id', 'res_partner', 'id', 'partner_id')
        lead = query.left_join(table, 'lead_id', 'crm_lead', 'id', 'lead_id')

        def readable_name(alias, model):
            # A contact or lead is named only where the user may read it (its access rules).
            readable = self._history_readable_ids(model)
            if readable is None:
                return SQL('NULL')
            return SQL("CASE WHEN %s IN %s THEN %s END", SQL.identifier(alias, 'id'), readable,
                       SQL.identifier(alias, 'name'))

        types = dict(self._fields['call_type']._description_selection(self.env))
        statuses = dict(self._fields['status']._description_selection(self.env))

        def label(column, labels):
            # The selection's label in the user's language, computed by PostgreSQL.
            return SQL("CASE %s %s ELSE %s END", column, SQL(' ').join(
                SQL("WHEN %s THEN %s", value, name) for value, name in labels.items()), column)

        def text(column):
            # Formula-looking text escaped as Odoo's export does (tools/call_history.py).
            return SQL("CASE WHEN left(%s, 1) IN %s THEN '''' || %s ELSE %s END",
                       column, call_history.FORMULA_STARTS, column, column)

        sql = query.select(
            SQL("to_char(timezone(%s, timezone('UTC', %s)), 'YYYY-MM-DD HH24:MI:SS')",
                self._history_tz(), SQL.identifier(table, 'start_date')),
            text(label(SQL.identifier(table, 'call_type'), types)),
            text(SQL.identifier(owner_partner, 'name')),
            text(SQL.identifier(table, 'from_number')),
            text(SQL.identifier(table, 'to_number')),
            SQL("COALESCE(%s, 0)", SQL.identifier(table, 'duration')),
            SQL("COALESCE(%s, 0)", SQL.identifier(table, 'recording_duration')),
            SQL("round(COALESCE(%s, 0)::numeric, 4)::float8", SQL.identifier(table, 'credits')),
            text(label(SQL.identifier(table, 'status'), statuses)),
            text(readable_name(contact, 'res.partner')),
            text(readable_name(lead, 'crm.lead')),
        )
        copy = self.env.cr.mogrify(sql.code, sql.params).decode()
        return call_history.stream_csv(self.env.registry.cursor, copy)

    @api.model
    def _count_by_record(self, field_name, record_ids):
        """``{record id: number of calls}`` of the calls whose ``field_name`` is one of
        ``record_ids`` that the current user may read (the smart buttons' counts)."""
        if not record_ids or not self.has_access('read'):
            return {}
        groups = self._read_group([(field_name, 'in', list(record_ids))], [field_name], ['__count'])
        return {record.id: count for record, count in groups}

    @api.model
    def _action_view_for_record(self, domain, name, context):
        return {
            'type': 'ir.actions.act_window',
            'name': name,
            'res_model': 'telephony.call',
            'view_mode': 'list,form',
            'views': [(False, 'list'), (False, 'form')],
            'domain': domain,
            'context': dict(context, create=False),
        }

    # ------------------------------------------------------------------------------------------
    # The CRM: who is calling, notes, call-backs (SPEC C2, C3)
    # ------------------------------------------------------------------------------------------

    def _caller_name(self):
        """The name shown on a ringing softphone: the contact, else the lead's contact."""
        self.ensure_one()
        call = self.sudo()
        lead = call.lead_id
        return (call.partner_id.display_name or lead.contact_name or lead.partner_name
                or lead.name or '')

    def _client_parameters(self):
        """The ``<Parameter>``s of a rung softphone's ``<Client>`` (CONTRACTS.md)."""
        self.ensure_one()
        return {
            'call_id': str(self.id),
            'caller_name': self._caller_name(),
            # What the softphone shows (``From`` stays E.164, for calling back).
            'caller_number': self.from_number_display or self.from_number or '',
            'partner_id': str(self.partner_id.id or 0),
            'lead_id': str(self.lead_id.id or 0),
        }

    def _ring_users(self, telephony_users):
        """The flow rings these telephony users: they may see the call if it is missed, and
        each of their tabs hears of it on the bus, with or without the softphone's Device."""
        self.ensure_one()
        users = telephony_users.sudo().user_id
        # One statement on the hot path of a ringing call (not the ORM's read-then-write).
        self.env.cr.execute(SQL(
            "INSERT INTO telephony_call_rung_user_rel (call_id, user_id) SELECT %s, unnest(%s::int[]) "
            "ON CONFLICT DO NOTHING", self.id, users.ids))
        self.invalidate_recordset(['rung_user_ids'])
        payload = dict(self._client_parameters(), number=self.from_number or '')
        for user in users:
            user._bus_send('builtin_telephony/ringing', payload)

    def _log_on_crm_records(self):
        """A note on the chatter of the matched lead and contact, and for a missed call or a
        voicemail, a call-back activity (one per caller and record)."""
        self.ensure_one()
        call = self.sudo()
        if not (call.lead_id or call.partner_id) and call.status not in ('missed', 'voicemail'):
            return
        body = call._crm_note()
        author = call.user_id.partner_id.id or False
        # A note nobody is notified of: Odoo's shortcut for it (no followers' notifications to
        # compute), on the status callback's path while Twilio waits.
        for record in (call.lead_id, call.partner_id):
            if record:
                record._message_log(body=body, message_type='comment', author_id=author)
        if call.direction == 'inbound' and call.status in ('missed', 'voicemail'):
            call._leave_call_back()

    def _crm_note(self):
        self.ensure_one()
        _ = self.env._
        statuses = dict(self._fields['status']._description_selection(self.env))
        if self.direction == 'outbound':
            title = _("Outgoing call to %(number)s", number=self.to_number)
        elif self.status == 'voicemail':
            title = _("Voicemail from %(number)s", number=self.from_number)
        elif self.status == 'missed':
            title = _("Missed call from %(number)s", number=self.from_number)
        else:
            title = _("Incoming call from %(number)s", number=self.from_number)
        details = [statuses.get(self.status, self.status)]
        if self.user_id:
            details.append(self.user_id.name)
        if self.duration:
            details.append(_("%(minutes)s min %(seconds)s s", minutes=self.duration // 60,
                             seconds=self.duration % 60))
        if self.recording_duration:
            details.append(_("recorded: %(seconds)s s", seconds=self.recording_duration))
        return Markup('<b>{}</b><br/>{}').format(title, ' · '.join(details))

    def _leave_call_back(self):
        """One open "Call back" activity per caller and record: on the lead, else the contact,
        else the call; for the lead's salesperson, else a user the flow rang, else the account's
        administrators' first."""
        self.ensure_one()
        record = self.lead_id or self.partner_id or self
        user = (self.lead_id.user_id or self.rung_user_ids[:1]
                or self.env['telephony.account']._get_for_company(self.company_id)._telephony_admins()[:1])
        # By id (cached per worker): env.ref() would also check that the row exists, a query
        # more in the status callback.
        IrModelData = self.env['ir.model.data']
        activity_type = self.env['mail.activity.type'].browse(
            IrModelData._xmlid_to_res_id('builtin_telephony.mail_activity_type_call_back'))
        # Two missed calls of one caller at once must still leave one activity: lock the record.
        self.env.cr.execute(SQL('SELECT id FROM %s WHERE id = %s FOR UPDATE',
                                SQL.identifier(record._table), record.id))
        number = self.from_number or ''
        existing = self.env['mail.activity'].sudo().search([
            ('res_model', '=', record._name), ('res_id', '=', record.id),
            ('activity_type_id', '=', activity_type.id), ('summary', 'like', number)], limit=1)
        if existing:
            return existing
        # The assignee's e-mail goes through Odoo's mail queue, its cron triggered now (as
        # event registrations do), instead of an SMTP session after the commit of the status
        # callback, which Twilio waits for.
        activity = record.sudo().with_context(mail_notify_force_send=False).activity_schedule(
            activity_type_id=activity_type.id, user_id=user.id or self.env.uid,
            summary=self.env._("Call back %(number)s", number=number),
            note=self._crm_note())
        if activity.user_id.id != self.env.uid:
            self.env['ir.cron'].sudo().browse(
                IrModelData._xmlid_to_res_id('mail.ir_cron_mail_scheduler_action'))._trigger()
        return activity

    @api.model
    def _softphone_note(self, body, call_id=None, call_sid=None):
        """Post ``body`` (plain text) as a note on the user's call, found by id or CallSid among
        the calls they may read; returns the call id."""
        body = (body or '').strip()
        domain = [('id', '=', int(call_id))] if call_id else [('provider_sid', '=', call_sid or '')]
        call = self.search(domain, limit=1)
        if not call or not body:
            raise UserError(self.env._("The note could not be saved: the call is not yours, or "
                                       "the note is empty."))
        call.message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')
        return call.id

    def message_post(self, **kwargs):
        """A note written on a call (from its form or the softphone) also reaches its lead."""
        message = super().message_post(**kwargs)
        if (kwargs.get('message_type') == 'comment' and self.lead_id and not self.env.su
                and not self.env.context.get('telephony_no_relay')):
            lead = self._readable_record(self.lead_id)
            if lead:
                lead.sudo().message_post(
                    body=Markup('<b>{}</b><br/>{}').format(
                        self.env._("Note on the call %(call)s", call=self.display_name),
                        kwargs.get('body') or ''),
                    message_type='comment', subtype_xmlid='mail.mt_note',
                    author_id=self.env.user.partner_id.id)
        return message

    # ------------------------------------------------------------------------------------------
    # Webhook entry points (controllers/voice.py); self is sudo: Twilio is anonymous
    # ------------------------------------------------------------------------------------------

    def init(self):
        super().init()
        # The credits live calls reserve (telephony.account._reserved_credits), read on every call.
        create_index(self.env.cr, 'telephony_call_reserved_index', self._table,
                     ['company_id', 'start_date', 'reserved_credits'],
                     where="reserved_credits > 0 AND status IN ('ringing', 'in_progress')")

    @api.model
    def _twilio_answer(self, account, answer, params):
        """The TwiML of ``answer(account, params)``, the method of this model that the route
        names (``_twilio_voice``, ``_twilio_outgoing``, ``_twilio_gather``...).

        Never raises: a fault is logged, its writes are rolled back, and the caller hears an
        apology, then the flow's voicemail or a polite hang-up. Concurrency errors are the
        exception: Odoo retries the whole request for them, which is what makes webhooks safe
        with several workers.
        """
        try:
            twiml_answer = answer(account, params)
            # Write now: a failing write must be answered here, not fail the commit (a 500).
            self.env.flush_all()
            return twiml_answer
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise
        except Exception:  # noqa: BLE001 -- anything at all: the caller must hear something
            # The request is this webhook alone: roll it all back rather than pay a savepoint
            # on every request (P3).
            self.env.cr.rollback()
            return self._twilio_apology(account, answer, params)

    @api.model
    def _twilio_apology(self, account, answer, params):
        _logger.exception("Telephony webhook %s failed for call %s; answering with an apology",
                          answer.__name__, params.get('CallSid'))
        try:
            with self.env.cr.savepoint():
                call = self._find_call(account, params.get('CallSid'))
                if not call or not call.flow_version_id:
                    lang = account.company_id.partner_id.lang
                    return twiml.say_and_hang_up(self.with_context(lang=lang).env._(
                        "We are sorry, something went wrong."), speech.say_language(lang))
                call._add_steps([runtime.LogEntry('', '', const.STEP_FAULT)])
                step = runtime.apology(call.flow_version_id._get_definition(),
                                           call._flow_context(account))
                call._record_step(step)
                return step.twiml
        except Exception:  # noqa: BLE001 -- the database itself may be what failed
            _logger.exception("Could not look up the call to apologise")
            return runtime.apology_twiml()

    @api.model
    def _twilio_callback(self, account, callback, params):
        """Run a status-like callback (no TwiML expected): faults are logged, never raised."""
        try:
            callback(account, params)
            self.env.flush_all()
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise
        except Exception:  # noqa: BLE001 -- Twilio would only retry into the same fault
            self.env.cr.rollback()
            _logger.exception("Telephony callback failed for call %s", params.get('CallSid'))

    @api.model
    def _find_call(self, account, call_sid):
        if not call_sid:
            return self.browse()
        # Fetched with the search: every webhook reads the call right after finding it.
        return self.search_fetch([('provider_sid', '=', call_sid),
                                  ('company_id', '=', account.company_id.id)],
                                 WEBHOOK_FIELDS, limit=1)

    # ------------------------------------------------------------------------------------------
    # Incoming calls
    # ------------------------------------------------------------------------------------------

    @api.model
    def _twilio_voice(self, account, params):
        """Answer a new incoming call: reject it, or log it and run its flow's start state."""
        call = self._find_call(account, params.get('CallSid'))
        if call:
            return call._replay_start(account)
        company = account.company_id
        from_number = params.get('From') or ''
        to_number = params.get('To') or ''
        number = self.env['telephony.number'].search_fetch(
            [('account_id', '=', account.id), ('phone_number', '=', to_number)],
            ['flow_id', 'number_type'], limit=1)
        flow = number.flow_id.with_context(active_test=False)
        values = {
            'provider_sid': params['CallSid'],
            'direction': 'inbound',
            'from_number': from_number,
            'to_number': to_number,
            'number_id': number.id,
            'company_id': company.id,
            'flow_id': flow.id,
        }
        if self.env['telephony.blocked.number'].is_blocked(from_number, company):
            self._create_refused(values, 'blocked', const.STEP_BLOCKED)
            return twiml.reject()
        version = flow._get_running_version() if flow else self.env['telephony.flow.version']
        if not version:
            self._create_refused(values, 'rejected', const.STEP_NO_FLOW)
            return twiml.reject()
        time_limit, reserved, refusal = account._call_allowance('inbound', to_number, number.number_type)
        if refusal:
            call = self._create_refused(values, 'failed', refusal)
            lang = company.partner_id.lang
            return twiml.say_and_hang_up(self.with_context(lang=lang).env._(
                "We are sorry, this service is temporarily unavailable. Please call again later."),
                speech.say_language(lang))
        partner, lead = self._match_caller(from_number, company)
        call = self.create(dict(values, status='in_progress', flow_version_id=version.id,
                                partner_id=partner.id, lead_id=lead.id, time_limit=time_limit,
                                reserved_credits=reserved))
        step = runtime.start(version._get_definition(), call._flow_context(account))
        call._record_step(step)
        return step.twiml

    def _replay_start(self, account):
        """Twilio retried the voice webhook: answer the same, write nothing (P2)."""
        self.ensure_one()
        if self.status in ('blocked', 'rejected'):
            return twiml.reject()
        if not self.flow_version_id:
            return runtime.apology_twiml()
        return runtime.start(self.flow_version_id._get_definition(),
                                 self._flow_context(account)).twiml

    @api.model
    def _create_refused(self, values, status, event):
        call = self.create(dict(values, status=status, end_date=fields.Datetime.now()))
        call._add_steps([runtime.LogEntry('', '', event)])
        return call

    @api.model
    def _match_caller(self, phone_number, company):
        """The contact and the open lead of ``phone_number``: one query each, on the
        ``phone_sanitized`` index that phone_validation keeps in E.164."""
        # The company's country through its partner: res.company.country_id is recomputed from
        # the whole address on every request.
        e164 = to_e164(phone_number, company.partner_id.country_id.code, raise_exception=False)
        Partner = self.env['res.partner']
        Lead = self.env['crm.lead']
        if not e164:
            return Partner, Lead
        if 'phone_sanitized' in Partner._fields:
            partner = Partner.search([('phone_sanitized', '=', e164),
                                      ('company_id', 'in', (company.id, False))], limit=1)
        else:
            # Without the sms module, contacts have no sanitized number: the phone_validation
            # expression index behind phone_mobile_search serves this exact match.
            partner = Partner.search([('phone_mobile_search', '=', e164),
                                      ('company_id', 'in', (company.id, False))], limit=1)
        lead = Lead.search([('phone_sanitized', '=', e164), ('active', '=', True),
                            ('company_id', 'in', (company.id, False)),
                            '|', ('stage_id', '=', False), ('stage_id.is_won', '=', False)],
                           order='create_date desc, id desc', limit=1)
        return partner, lead or Lead

    # ------------------------------------------------------------------------------------------
    # Flow actions (Gather, Dial, Record, Enqueue, Redirect...)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _twilio_gather(self, account, params):
        """Gather action of an IVR state (``FLOW_ROUTE`` gather)."""
        return self._twilio_flow_step(account, params, runtime.answer_gather)

    @api.model
    def _twilio_dial(self, account, params):
        """Dial action of a transfer state."""
        return self._twilio_flow_step(account, params, runtime.answer_dial)

    @api.model
    def _twilio_record(self, account, params):
        """Record action of a voicemail state."""
        return self._twilio_flow_step(account, params, runtime.answer_record)

    @api.model
    def _twilio_queue_wait(self, account, params):
        """waitUrl of a queue: what the caller hears while waiting."""
        return self._twilio_flow_step(account, params, runtime.answer_queue_wait)

    @api.model
    def _twilio_queue_key(self, account, params):
        """A key pressed while waiting in a queue (its call-back offer)."""
        return self._twilio_flow_step(account, params, runtime.answer_queue_key)

    @api.model
    def _twilio_queue_result(self, account, params):
        """Enqueue action: the caller left the queue."""
        return self._twilio_flow_step(account, params, runtime.answer_queue_result,
                                      leave_queue=True)

    @api.model
    def _twilio_connect(self, account, params):
        """A queued caller taken out of the queue for a user who became free."""
        return self._twilio_flow_step(account, params, runtime.answer_connect, leave_queue=True)

    @api.model
    def _twilio_event(self, account, params):
        """A Redirect of ours: the call leaves a state through an event."""
        return self._twilio_flow_step(account, params, runtime.answer_event)

    @api.model
    def _twilio_unknown_action(self, account, params):
        raise FlowError("No webhook of a call flow answers this URL.")

    @api.model
    def _twilio_flow_step(self, account, params, answer, leave_queue=False):
        """Run the engine's ``answer`` for the call of ``params`` and keep what it decided."""
        call = self._find_call(account, params.get('CallSid'))
        if not call or not call.flow_version_id:
            raise FlowError("%s for a call this database did not start." % answer.__name__)
        if call.end_date and answer is not runtime.answer_record:
            # The call is over (a late or retried request): nothing starts again, nothing is
            # logged. Only a voicemail left as the caller hung up is still kept.
            return twiml.hang_up()
        key = hashlib.sha1(repr((answer.__name__, sorted(params.items()))).encode()).hexdigest()
        if key == call.last_action_key:
            # Twilio retried the request it had no answer to: the same answer, written once.
            return answer(call.flow_version_id._get_definition(), params, call._flow_context(account)).twiml
        if leave_queue:
            call._leave_queue()
        step = answer(call.flow_version_id._get_definition(), params, call._flow_context(account))
        call._record_step(step, last_action_key=key)
        return step.twiml

    def _record_step(self, step, **values):
        """Keep what the engine decided: the path, the queue the caller entered, the outcome."""
        self.ensure_one()
        self._add_steps(step.log)
        if step.transfer_outcome:
            values['flow_outcome'] = step.transfer_outcome
        if step.queue_name and not self.end_date:  # an ended call waits in no queue
            values.update(queue_name=step.queue_name, queue_state=step.queue_state,
                          queued_date=fields.Datetime.now())
        if step.user_ids:
            self._ring_users(self.env['telephony.user'].browse(step.user_ids))
        if step.outcome in ('voicemail', 'callback'):
            values['status'] = step.outcome
        elif step.outcome and not step.transfer_outcome:
            values['flow_outcome'] = step.outcome
        if values:
            self.write(values)
        if step.outcome == 'callback':
            self._request_callback(self.env['telephony.user'].browse(step.callback_user_ids))

    def _request_callback(self, telephony_users):
        """The caller chose to be called back instead of waiting in a queue (B3): a "call back"
        activity for each of ``telephony_users`` (the state's user, or its group's members; the
        account's administrators when none is left), on the caller's lead, else their contact,
        else this call, saying who called, from which number, when, and from which state."""
        self.ensure_one()
        call = self.sudo()
        users = telephony_users.sudo().exists().filtered(
            lambda telephony_user: telephony_user.company_id == call.company_id).user_id
        if not users:
            users = self.env['telephony.account']._get_for_company(
                call.company_id)._telephony_admins()[:1]
        record = call.lead_id or call.partner_id or call
        summary = self.env._("Call back %(number)s", number=call.from_number or '?')
        note = call._callback_note()
        # The "Call back" type a missed call leaves: one kind of call-back to do, in one list.
        for user in users:
            record.activity_schedule('builtin_telephony.mail_activity_type_call_back',
                                     user_id=user.id, summary=summary, note=note)

    def _callback_note(self):
        self.ensure_one()
        when = fields.Datetime.context_timestamp(
            self.with_context(tz=self.company_id.partner_id.tz or 'UTC'), fields.Datetime.now())
        lines = [self.env._("%(number)s asked to be called back instead of waiting in the queue "
                            "(%(date)s).", number=self.from_number or '?',
                            date=when.strftime('%Y-%m-%d %H:%M %Z'))]
        for record in (self.lead_id, self.partner_id):
            if record:
                lines.append(Markup('<a href="/odoo/{}/{}">{}</a>').format(
                    record._name, record.id, record.display_name))
        return Markup('<br/>').join(lines)

    # ------------------------------------------------------------------------------------------
    # Voicemail: transcription, e-mail (B4)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _twilio_transcription(self, account, params):
        """Transcription callback of a voicemail (``<Record transcribe>``): keep the text on
        the call once (a retry, same ``TranscriptionSid``, changes nothing), write it on the
        matched lead's and contact's chatter, and send the voicemail's e-mail if it waited for it."""
        call = self._find_call(account, params.get('CallSid'))
        sid = params.get('TranscriptionSid')
        if not call or not sid:
            return
        call._lock()
        if call.transcription_sid:
            return
        completed = params.get('TranscriptionStatus') == 'completed'
        call.write({'transcription_sid': sid,
                    'transcription': (params.get('TranscriptionText') or '').strip()
                    if completed else False})
        if call.transcription:
            call._post_transcription()
        call._send_voicemail_email()

    def _lock(self):
        """Lock this call's row until the end of the transaction: a concurrent callback of the
        same call waits, then fails to serialise and is retried, seeing what this one wrote."""
        self.ensure_one()
        self.env.cr.execute(SQL('SELECT id FROM telephony_call WHERE id = %s FOR UPDATE', self.id))
        self.invalidate_recordset()

    def _post_transcription(self):
        self.ensure_one()
        body = Markup('<b>{}</b><br/><i>“{}”</i>').format(
            self.env._("Voicemail from %(number)s, transcribed:", number=self.from_number or '?'),
            self.transcription)
        for record in (self.sudo().lead_id, self.sudo().partner_id):
            if record:
                record.message_post(body=body, message_type='comment',
                                    subtype_xmlid='mail.mt_note')

    def _voicemail_state(self):
        """``(state id, state)`` of the voicemail state where the message was left, or
        ``(None, {})``."""
        self.ensure_one()
        step = self.step_ids.filtered(lambda step: step.event == const.STEP_VOICEMAIL)[-1:]
        if not step or not self.flow_version_id:
            return None, {}
        states = self.flow_version_id._get_definition().get('states') or {}
        return step.state_ref, states.get(step.state_ref) or {}

    def _voicemail_recipients(self, email_to):
        """``(partners, address)`` the voicemail e-mail goes to: the user the call was for
        (``owner``: its owner, else the user of the last transfer state it went through), the
        members of the group it was for (``group``), or one address; the account's
        administrators when nobody is found."""
        self.ensure_one()
        call = self.sudo()
        if email_to not in (EMAIL_TO_OWNER, EMAIL_TO_GROUP):
            return self.env['res.partner'], email_to
        states = call.flow_version_id._get_definition().get('states') or {} \
            if call.flow_version_id else {}
        path = [states.get(step.state_ref) or {} for step in call.step_ids]
        users = self.env['res.users']
        if email_to == EMAIL_TO_OWNER:
            users = call.user_id
            transfers = [state for state in path if state.get('type') == 'transfer_user']
            if not users and transfers:
                users = self.env['telephony.user'].browse(
                    int(transfers[-1].get('user_id') or 0)).exists().user_id
        else:
            groups = [state for state in path if state.get('type') == 'transfer_group']
            if groups:
                group = self.env['telephony.group'].browse(int(groups[-1].get('group_id') or 0))
                users = group.exists().member_ids.user_id
        if not users:
            users = self.env['telephony.account']._get_for_company(call.company_id)._telephony_admins()
        return users.partner_id, False

    @api.model
    def _cron_send_late_voicemails(self):
        """E-mail the voicemails whose transcription has not come within ``TRANSCRIPTION_WAIT``
        of their recording, without it (it still reaches the chatter if it comes later)."""
        now = fields.Datetime.now()
        calls = self.sudo().search([
            ('voicemail_emailed', '=', False), ('transcription_sid', '=', False),
            ('start_date', '>=', now - TRANSCRIPTION_LOOK_BACK),
            ('recording_ids', 'any', [('kind', '=', 'voicemail'), ('state', '!=', 'pending'),
                                      ('date', '<=', now - TRANSCRIPTION_WAIT)]),
        ])
        for call in calls:
            call._send_voicemail_email(transcription_late=True)
        return len(calls.filtered('voicemail_emailed'))

    def _send_voicemail_email(self, transcription_late=False):
        """E-mail the voicemail as its state asks (``email_to``), once, when it is complete:
        the recording known, and its transcription in when the state asked for one (or
        ``transcription_late``: given up waiting for it). The audio is attached when Odoo keeps
        it and it is small enough, else linked through the access-checked recording route."""
        self.ensure_one()
        call = self.sudo()
        _state_id, state = call._voicemail_state()
        recording = call.recording_ids.filtered(lambda recording: recording.kind == 'voicemail')[:1]
        # Complete: the audio downloaded (or known not to be kept), the transcription in.
        if call.voicemail_emailed or not state.get('email_to') or not recording \
                or recording.state == 'pending' \
                or (state.get('transcribe') and not call.transcription_sid and not transcription_late):
            return
        call.voicemail_emailed = True
        partners, address = call._voicemail_recipients(state['email_to'])
        audio = recording.attachment_id
        attach = bool(audio) and audio.file_size <= VOICEMAIL_ATTACHMENT_MAX_BYTES
        account = self.env['telephony.account']._get_for_company(call.company_id)
        link = account._webhook_url('%s%s' % (const.RECORDING_PLAY_ROUTE, recording.id))
        when = fields.Datetime.context_timestamp(
            call.with_context(tz=call.company_id.partner_id.tz or 'UTC'), call.start_date)
        body = self.env['ir.qweb']._render('builtin_telephony.telephony_voicemail_email', {
            'call': call,
            'when': when.strftime('%Y-%m-%d %H:%M %Z'),
            'duration': recording.duration,
            'attached': attach,
            'transcription_late': state.get('transcribe') and not call.transcription_sid,
            'link': link,
            'base_url': account._webhook_url(''),
        })
        caller = (call.lead_id or call.partner_id).display_name
        self.env['mail.mail'].sudo().create({
            'subject': self.env._("Voicemail from %(caller)s", caller=caller
                                  and '%s (%s)' % (caller, call.from_number) or call.from_number),
            'body_html': body,
            'email_from': call.company_id.partner_id.email_formatted
            or self.env.user.partner_id.email_formatted,
            'recipient_ids': [(6, 0, partners.ids)],
            'email_to': address or False,
            'model': call._name,
            'res_id': call.id,
            'attachment_ids': [(0, 0, {'name': audio.name, 'raw': audio.raw,
                                       'mimetype': audio.mimetype})] if attach else [],
            'auto_delete': True,
        })

    def _add_steps(self, log, user=None):
        self.ensure_one()
        # Never before what Twilio's callbacks already dated (answer, the agent's end): the
        # path reads in the same time as the call's start, answer and end.
        now = max([fields.Datetime.now()] + [date for date in (self.answer_date, self.agent_end_date) if date])
        self.env['telephony.call.step'].create([{
            'call_id': self.id,
            'date': now,
            'state_ref': entry.state_id,
            'state_name': entry.state_name,
            'event': entry.event,
            'user_id': user.id if user else False,
        } for entry in log])

    def _leave_queue(self):
        self.filtered('queue_name').write({'queue_name': False})

    def _queue_name(self, kind, record_id):
        """Twilio queue of a user or group: per database, since databases may share an account."""
        uuid = self.env['ir.config_parameter'].sudo().get_param('database.uuid', '')
        return f'{kind}-{record_id}-{uuid[:8]}'

    def _flow_context(self, account=None):
        self.ensure_one()
        return FlowContext(self, account)

    # ------------------------------------------------------------------------------------------
    # Status callbacks
    # ------------------------------------------------------------------------------------------

    @api.model
    def _twilio_status(self, account, params):
        """Status callback of a call: its end, duration and final status (idempotent)."""
        call = self._find_call(account, params.get('CallSid'))
        twilio_status = params.get('CallStatus')
        if not call or call.end_date:
            return
        if twilio_status == 'in-progress' and call.status == 'ringing':
            call.write({'status': 'in_progress'})
            return
        if twilio_status not in ENDED:
            return
        values = {'end_date': max(_twilio_time(params), call.start_date, call.answer_date or call.start_date),
                  'queue_name': False, 'duration': int(params.get('CallDuration') or 0)}
        if call.status not in DECIDED:
            values['status'] = call._final_status(twilio_status)
        call.write(values)
        call._after_end(account)

    def _final_status(self, twilio_status):
        self.ensure_one()
        if self.direction == 'outbound':
            # Reached only when the Dial action never came: without an answer, nobody talked.
            if twilio_status == 'completed' and not self.answer_date:
                return 'missed'
            return OUTBOUND_DIAL_STATUS.get(twilio_status, 'failed')
        if self.answer_date:
            return 'completed'
        # Nobody answered: the flow says whether everybody was busy; otherwise it was missed.
        return 'busy' if self.flow_outcome == 'busy' else 'missed'

    def _after_end(self, account):
        """The call is over: charge it, and free its owner for the next caller in a queue."""
        self.ensure_one()
        if self.duration:
            self._charge(account)
        if self.reserved_credits:
            # Charged (or free): what the call spent is its credits now, not its reservation.
            self.reserved_credits = 0.0
        if self.direction == 'outbound' and self.duration:
            account._check_spend_levels(self.env['telephony.user'].sudo().search(
                [('user_id', '=', self.user_id.id), ('company_id', '=', self.company_id.id)],
                limit=1) if self.user_id else None)
        self._log_on_crm_records()
        if self.user_id and not self.agent_end_date:
            self.agent_end_date = fields.Datetime.now()
            self._connect_next_caller(account, self.user_id)

    def _charge(self, account=None):
        """Rate this finished call and ask its account to debit it, once (reference: its
        CallSid); store the credits on the call.

        The destination of an outgoing call, or our number for an incoming one, picks the rate;
        every started minute is paid. A call of 0 seconds costs nothing and leaves no line.

        :return: the ``telephony.wallet.transaction``, or an empty recordset when nothing is due
        """
        self.ensure_one()
        call = self.sudo()
        account = account or self.env['telephony.account']._get_for_company(call.company_id)
        phone_number = call.to_number if call.direction == 'outbound' else (
            call.number_id.phone_number or call.to_number)
        transaction = account._charge_call(
            call.direction, phone_number, call.number_id.number_type, call.duration, call.provider_sid,
            call_id=call.id,
            description=self.env._("%(direction)s call, %(minutes)s min to %(number)s",
                                   direction=call._fields['direction'].convert_to_export(call.direction, call),
                                   minutes=rating.billable_minutes(call.duration), number=phone_number))
        if transaction is None:
            # Refused when it started; a rate removed since cannot make it free silently.
            _logger.error("Call %s to %s cannot be charged: no call rate matches it",
                          call.provider_sid, phone_number)
            return self.env['telephony.wallet.transaction']
        if not transaction:
            if not call.credits:
                call.credits = 0.0
            return transaction
        # A retried callback finds the first charge: the call keeps what was charged then.
        call.credits = -transaction.credits
        return transaction

    @api.model
    def _twilio_agent_status(self, account, params):
        """Status callback of a softphone leg of ``<Dial><Client>``: who answered (the owner,
        also in a parallel ring), and when they are free again."""
        call = self._find_call(account, params.get('ParentCallSid'))
        telephony_user = self.env['telephony.user'].browse(int(params.get('user') or 0)).exists()
        if not call or not telephony_user or telephony_user.company_id != call.company_id:
            return
        leg_status = params.get('CallStatus')
        leg_sid = params.get('CallSid')
        if leg_status == 'in-progress' and not call.answered_leg_sid:
            call.write({'answered_leg_sid': leg_sid, 'user_id': telephony_user.user_id.id,
                        'answer_date': max(_twilio_time(params), call.start_date), 'status': 'in_progress'})
            call._add_steps([runtime.LogEntry('', '', const.STEP_ANSWERED)], user=telephony_user.user_id)
        elif leg_status in ENDED and leg_sid == call.answered_leg_sid and not call.agent_end_date:
            call.agent_end_date = max(_twilio_time(params), call.answer_date or call.start_date)
            call._connect_next_caller(account, telephony_user.user_id)

    def _connect_next_caller(self, account, user):
        """``user`` just became free: hand them the longest-waiting caller of the queues they
        serve (their own and their groups').

        Only recorded here, on the waiting call (``handoff_user_id``): the hand-off job takes the
        caller out of the provider's queue once this request has committed, so that a retried
        request (Odoo's serialization retries, Twilio's retries) never asks the provider twice.
        One caller at a time per user.
        """
        telephony_user = self.env['telephony.user'].sudo().search(
            [('user_id', '=', user.id), ('company_id', '=', account.company_id.id)], limit=1)
        if not telephony_user or telephony_user.availability != 'available':
            return
        names = [self._queue_name('user', telephony_user.id)] + [
            self._queue_name('group', group.id) for group in telephony_user.group_ids]
        waiting = self.sudo().search([('queue_name', 'in', names), ('handoff_user_id', '=', False),
                                      ('company_id', '=', account.company_id.id)],
                                     order='queued_date, id', limit=1)
        if not waiting or self.sudo().search_count([('handoff_user_id', '=', telephony_user.id)], limit=1):
            return
        waiting.write({'handoff_user_id': telephony_user.id, 'next_handoff_date': False})
        # A trigger is a row: the job sees it once this request has committed.
        self._trigger_handoff_job()

    def _trigger_handoff_job(self, at=None):
        # The cron by its id (cached per worker): env.ref() would also check that its row exists,
        # a query more in the webhook.
        cron_id = self.env['ir.model.data']._xmlid_to_res_id('builtin_telephony.ir_cron_telephony_queue_handoff')
        self.env['ir.cron'].sudo().browse(cron_id)._trigger(at)

    def _handoff_domain(self):
        return [('handoff_user_id', '!=', False),
                '|', ('next_handoff_date', '=', False), ('next_handoff_date', '<=', fields.Datetime.now())]

    @api.model
    def _cron_hand_off_queued_callers(self):
        """Take the callers handed to a free user out of the provider's queue, to ring them.

        One hand-off per committed transaction, each locked (``SKIP LOCKED``: any server may
        run this job, none takes a hand-off another holds). The provider is asked for that very
        caller (``dequeue_member``), so a hand-off run again after a crash takes nobody else; a
        caller who left meanwhile is skipped and the user handed the next one; a provider that
        fails is asked again ``HANDOFF_RETRY`` later, while the caller keeps hearing the music.
        """
        commit = not _testing()
        started, done, seen = time.monotonic(), 0, set()
        while time.monotonic() - started < CRON_TIME_BUDGET:
            batch = self.sudo().search(self._handoff_domain() + [('id', 'not in', list(seen))],
                                       order='queued_date, id', limit=HANDOFF_BATCH)
            if not batch:
                break
            seen.update(batch.ids)
            for call in batch:
                if not call._lock_for_handoff():
                    continue
                call._hand_off()
                if commit:
                    self.env.cr.commit()
                done += 1
        self.env['ir.cron']._notify_progress(
            done=done, remaining=self.sudo().search_count(self._handoff_domain()))
        next_try = self.sudo().search([('handoff_user_id', '!=', False), ('next_handoff_date', '!=', False)],
                                      order='next_handoff_date', limit=1).next_handoff_date
        if next_try:
            self._trigger_handoff_job(next_try)

    def _lock_for_handoff(self):
        """Take this waiting call's hand-off for this transaction, unless another server has it
        or it was done meanwhile (False)."""
        self.ensure_one()
        self.env.cr.execute(SQL(
            "SELECT id FROM telephony_call WHERE id = %s AND handoff_user_id IS NOT NULL "
            "FOR NO KEY UPDATE SKIP LOCKED", self.id))
        if not self.env.cr.fetchone():
            return False
        self.invalidate_recordset()
        return True

    def _hand_off(self):
        """Ask the provider to send this waiting caller to the user it was handed to."""
        self.ensure_one()
        telephony_user = self.handoff_user_id
        account = self.env['telephony.account']._get_for_company(self.company_id).sudo()
        if not self.queue_name or self.end_date:
            # The caller left meanwhile (hung up, the music ended, asked to be called back):
            # the user is still free for the next one.
            self.write({'handoff_user_id': False, 'next_handoff_date': False})
            self._connect_next_caller(account, telephony_user.user_id)
            return
        if telephony_user.availability != 'available' or not telephony_user.user_active:
            # The user signed out meanwhile: the caller keeps waiting for someone else.
            self.write({'handoff_user_id': False, 'next_handoff_date': False})
            return
        url = self._flow_context(account).url('connect', state=self.queue_state, user=telephony_user.id)
        try:
            gateway = account._get_gateway()
            dequeued = gateway.dequeue_member(gateway.queue_sid(self.queue_name), self.provider_sid, url)
        except TelephonyProviderError as error:
            _logger.warning("Call %s: the provider failed to take it out of queue %s (%s); trying "
                            "again in %s", self.provider_sid, self.queue_name, error, HANDOFF_RETRY)
            self.next_handoff_date = fields.Datetime.now() + HANDOFF_RETRY
            return
        self.write({'handoff_user_id': False, 'next_handoff_date': False, 'queue_name': False})
        if not dequeued:
            # The provider no longer had the caller in its queue: they left; the next one.
            self._connect_next_caller(account, telephony_user.user_id)

    # ------------------------------------------------------------------------------------------
    # Outgoing calls (the softphone's TwiML App)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _twilio_outgoing(self, account, params):
        """Answer the TwiML App of a softphone placing a call: dial the number, or explain why
        not and hang up (in the caller's language). The call is logged either way."""
        company = account.company_id
        telephony_user = self.env['telephony.user']._from_client_identity(params.get('From'))
        lang = telephony_user.user_id.lang or company.partner_id.lang
        _ = self.with_context(lang=lang).env._
        language = speech.say_language(lang)
        destination = (params.get('To') or '').strip()
        values = {
            'provider_sid': params['CallSid'],
            'direction': 'outbound',
            'from_number': params.get('CallerId') or False,
            'to_number': destination,
            'company_id': company.id,
            'user_id': telephony_user.user_id.id,
        }
        call = self._find_call(account, params['CallSid'])
        if call:
            return call._replay_outgoing(account, telephony_user)
        if not telephony_user or telephony_user.company_id != company \
                or not telephony_user.allow_outbound:
            self._create_refused(values, 'failed', const.STEP_NOT_ALLOWED)
            return twiml.say_and_hang_up(_(
                "You are not allowed to make outgoing calls. Ask your telephony administrator."),
                language)
        try:
            destination = self.env['telephony.blocked.number']._check_outbound_destination(
                destination, company)
        except UserError:
            self._create_refused(values, 'failed', const.STEP_DESTINATION_REFUSED)
            return twiml.say_and_hang_up(_("This number cannot be called from here."), language)
        values['to_number'] = destination
        refusal = account.with_context(lang=lang) \
            ._outbound_country_refusal(destination)
        if refusal:
            self._create_refused(values, 'failed', const.STEP_COUNTRY_REFUSED)
            return twiml.say_and_hang_up(refusal, language)
        caller_ids = telephony_user._get_outgoing_caller_ids()
        requested = to_e164(params.get('CallerId'), company.country_id.code, raise_exception=False)
        caller_id = requested if requested in caller_ids else (caller_ids[:1] or [False])[0]
        if not caller_id:
            self._create_refused(values, 'failed', const.STEP_NO_CALLER_ID)
            return twiml.say_and_hang_up(_(
                "You have no outgoing caller ID. Ask your telephony administrator to give you one."),
                language)
        values['from_number'] = caller_id
        values['number_id'] = self.env['telephony.number'].search(
            [('account_id', '=', account.id), ('phone_number', '=', caller_id)], limit=1).id
        number_type = number_type_of(destination)
        time_limit, reserved, refusal = account._call_allowance('outbound', destination, number_type)
        if refusal == const.STEP_NO_RATE:
            self._create_refused(values, 'failed', refusal)
            return twiml.say_and_hang_up(_("This number cannot be called from here."), language)
        if refusal:
            self._create_refused(values, 'failed', refusal)
            return twiml.say_and_hang_up(_(
                "Your company has no credits left for calls. Ask your telephony administrator to "
                "buy credits."), language)
        # B5: the daily spending limits cut the time limit, or refuse the call.
        price = self.env['telephony.rate']._price_per_minute('outbound', destination, number_type)
        time_limit, refusal = account.with_context(lang=lang) \
            ._limit_outbound_seconds(telephony_user, price, time_limit)
        if refusal:
            self._create_refused(values, 'failed', const.STEP_SPEND_LIMIT)
            return twiml.say_and_hang_up(refusal, language)
        partner, lead = self._placed_from_record(params, telephony_user.user_id)
        if not (partner or lead):
            partner, lead = self._match_caller(destination, company)
        call = self.create(dict(values, status='ringing', partner_id=partner.id, lead_id=lead.id,
                                time_limit=time_limit,
                                reserved_credits=rating.call_credits(price, time_limit)))
        call._add_steps([runtime.LogEntry('', '', const.STEP_DIALING)], user=telephony_user.user_id)
        return call._outgoing_dial_twiml(account, telephony_user, time_limit)

    @api.model
    def _placed_from_record(self, params, user):
        """(contact, lead) of the record a call was placed from (the softphone's ``ResModel``
        and ``ResId``, click to call), when ``user`` may read it; empty recordsets otherwise."""
        Partner, Lead = self.env['res.partner'], self.env['crm.lead']
        model, res_id = params.get('ResModel'), params.get('ResId') or ''
        if model not in ('crm.lead', 'res.partner') or not res_id.isdigit() or not user:
            return Partner, Lead
        record = self.env[model].browse(int(res_id)).exists()
        if not record or not record.with_user(user).has_access('read'):
            return Partner, Lead
        if model == 'crm.lead':
            return record.partner_id, record
        return record, Lead

    def _outgoing_dial_twiml(self, account, telephony_user, time_limit):
        """``<Dial>`` of an outgoing call from its caller ID to its destination."""
        self.ensure_one()
        return twiml.outbound_dial(
            self.from_number, self.to_number, time_limit,
            account._webhook_url(const.OUTBOUND_DIAL_ROUTE),
            recording_callback_url=telephony_user.record_outbound
            and account._webhook_url(const.RECORDING_ROUTE))

    def _replay_outgoing(self, account, telephony_user):
        """Twilio retried the TwiML App request (it never got our answer): answer the same
        again, without logging the call twice."""
        self.ensure_one()
        if self.status != 'ringing' or not telephony_user:
            lang = telephony_user.user_id.lang or self.company_id.partner_id.lang
            return twiml.say_and_hang_up(self.with_context(lang=lang).env._(
                "This call cannot be placed."), speech.say_language(lang))
        # The time limit given the first time: what was reserved for it under the limits.
        time_limit = self.time_limit or account._outbound_time_limit(
            self.to_number, number_type_of(self.to_number))
        return self._outgoing_dial_twiml(account, telephony_user, time_limit)

    @api.model
    def _twilio_outbound_dial(self, account, params):
        """Dial action of an outgoing call: the callee's answer decides the status, the talk
        time its duration; the call is then charged (idempotent: a retry changes nothing)."""
        call = self._find_call(account, params.get('CallSid'))
        if call and not call.end_date:
            dial_status = params.get('DialCallStatus')
            duration = int(params.get('DialCallDuration') or 0)
            now = fields.Datetime.now()
            call.write({
                'status': OUTBOUND_DIAL_STATUS.get(dial_status, 'failed'),
                'duration': duration,
                'answer_date': duration and now - timedelta(seconds=duration),
                'end_date': now,
            })
            call._after_end(account)
        return twiml.hang_up()


def _twilio_time(params):
    """When Twilio says a status callback's event happened: its ``Timestamp`` parameter (RFC 2822,
    ``Tue, 01 Dec 2026 10:15:42 +0000``) as a naive UTC datetime, or now when it has none.

    The request is signed, so the time is Twilio's; a callback delivered late (retries, a busy
    server) keeps the time of the event, and a call's start, answer and end are its own.
    """
    value = params.get('Timestamp')
    if value:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None:
            if moment.tzinfo:
                moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
            return moment.replace(microsecond=0)
    return fields.Datetime.now()
