import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .flow_context import FlowContext
from ..tools.flow import definition as flow_definition, description as flow_description, \
    simulator as flow_simulator, validation as flow_validation
from .telephony_user import LIVE_CALL_STATUSES, MAX_CALL_DURATION

# Set by publication only (action_publish), never written directly, not even over RPC.
PUBLICATION_FIELDS = {'published_definition', 'published_version_id', 'state'}

# A new flow starts as something that works: a greeting, then voicemail.
DEFAULT_DEFINITION = {
    'start': 'welcome',
    'states': {
        'welcome': {'type': 'announce', 'name': "Welcome",
                    'message': {'kind': 'text', 'text': "Thank you for calling."},
                    'next': {'next': 'voicemail'}},
        'voicemail': {'type': 'voicemail', 'name': "Voicemail",
                      'message': {'kind': 'text',
                                  'text': "Please leave a message after the tone."},
                      'timeout': 5, 'max_length': 120, 'next': {}},
    },
}


def dump_definition(definition):
    """The canonical JSON text of a definition (stable key order, readable indentation)."""
    return json.dumps(definition, indent=2, sort_keys=True, ensure_ascii=False)


class TelephonyFlow(models.Model):
    """What happens to an incoming call on the flow's numbers (requirements §4).

    ``definition`` is the draft the administrator edits; ``published_definition`` the version
    incoming calls run, copied from the draft by :meth:`action_publish` once it has no problem.
    Each publication is also kept as a ``telephony.flow.version``, which calls in progress keep
    running until they end.
    """
    _name = 'telephony.flow'
    _description = "Call Flow"
    _inherit = ['mail.thread', 'telephony.account.mixin']
    _order = 'name, id'

    name = fields.Char(required=True, tracking=True)
    description = fields.Text()
    active = fields.Boolean("Enabled", default=True, tracking=True,
                            help="A disabled flow rejects the calls of its numbers.")
    number_ids = fields.One2many(
        'telephony.number', 'flow_id', string="Numbers",
        help="Incoming calls on these numbers follow this flow. A number follows one flow at "
             "most: adding it here takes it away from its previous flow.")
    number_count = fields.Integer("Numbers count", compute='_compute_number_count')
    numbers_summary = fields.Char("Phone numbers", compute='_compute_number_count')
    definition = fields.Text(
        "Draft definition", default=lambda self: dump_definition(DEFAULT_DEFINITION),
        help="The call flow, in JSON (the draft). Calls run the published version until the "
             "next publication.")
    published_definition = fields.Text(readonly=True, copy=False,
                                       help="The version incoming calls run.")
    state = fields.Selection([('draft', "Draft"), ('published', "Published")],
                             required=True, default='draft', readonly=True, copy=False,
                             tracking=True)
    published_version_id = fields.Many2one(
        'telephony.flow.version', string="Published version", readonly=True, copy=False,
        ondelete='set null')
    published_version = fields.Integer(related='published_version_id.version')
    published_date = fields.Datetime(related='published_version_id.create_date',
                                     string="Published on")
    has_unpublished_changes = fields.Boolean(
        compute='_compute_has_unpublished_changes',
        help="The draft differs from the version calls run.")
    draft_problems = fields.Text(compute='_compute_descriptions',
                                 help="What prevents the draft from being published.")
    draft_html = fields.Html("Draft", compute='_compute_descriptions', sanitize=False)
    published_html = fields.Html("Published", compute='_compute_descriptions', sanitize=False)

    @api.depends('number_ids')
    def _compute_number_count(self):
        for flow in self:
            flow.number_count = len(flow.number_ids)
            flow.numbers_summary = ', '.join(flow.number_ids.mapped('display_name'))

    @api.depends('definition', 'published_definition', 'state')
    def _compute_has_unpublished_changes(self):
        for flow in self:
            flow.has_unpublished_changes = flow.state == 'published' and _normalized(
                flow.definition) != _normalized(flow.published_definition)

    @api.depends('definition', 'published_definition', 'company_id')
    def _compute_descriptions(self):
        for flow in self:
            users, groups = flow._company_users_and_groups()
            calendars = {calendar.id: '%s (%s)' % (calendar.name, calendar.tz)
                         for calendar in flow._company_calendars()}
            draft = flow_description.describe_definition(
                flow.definition or '{}', users=users, groups=groups, _=self.env._,
                calendars=calendars)
            published = flow_description.describe_definition(
                flow.published_definition or '{}', users=users, groups=groups, _=self.env._,
                calendars=calendars)
            problems = flow.validate_definition(flow.definition or '')
            flow.draft_problems = '\n'.join(problems)
            flow.draft_html = flow._render_description(draft, published, problems)
            flow.published_html = flow._render_description(published, draft)

    def _render_description(self, entries, other_entries, problems=()):
        """Readable HTML of one version; states that differ from ``other_entries`` are marked,
        so that the draft and the published version can be compared side by side."""
        def content(entry):
            # Connections compare as a set: their order is the JSON's key order, not a change.
            return dict(entry, connections=sorted(entry['connections']), changed=None)
        others = {entry['id']: content(entry) for entry in other_entries}
        entries = [dict(entry, changed=bool(other_entries) and others.get(entry['id']) != content(entry))
                   for entry in entries]
        return self.env['ir.qweb']._render('builtin_telephony.telephony_flow_description', {
            'entries': entries,
            'problems': problems,
        })

    def _company_users_and_groups(self):
        """``({telephony.user id: name}, {telephony.group id: name})`` of the flow's company."""
        company = self.company_id or self.env.company
        users = self.env['telephony.user'].sudo().search_read(
            [('company_id', '=', company.id)], ['name'])
        groups = self.env['telephony.group'].sudo().search_read(
            [('company_id', '=', company.id)], ['name'])
        return ({user['id']: user['name'] for user in users},
                {group['id']: group['name'] for group in groups})

    def _company_calendars(self):
        """The working-hours calendars a ``business_hours`` state of this flow may use: the flow's
        company's and the shared ones."""
        company = self.company_id or self.env.company
        return self.env['resource.calendar'].sudo().search(
            [('company_id', 'in', (company.id, False))])

    # ------------------------------------------------------------------------------------------
    # Who published flows transfer calls to (U1, U2: such users and groups cannot be removed)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _transfer_targets(self, company, state_type, key, record_ids):
        """The published flows of ``company`` with a ``state_type`` state whose ``key`` is one of
        ``record_ids``, as ``{record id: flow names}``."""
        flows = self.sudo().with_context(active_test=False).search_fetch(
            [('company_id', '=', company.id), ('state', '=', 'published'),
             ('published_definition', '!=', False)],
            ['name', 'published_definition'])
        used = {}
        for flow in flows:
            try:
                states = json.loads(flow.published_definition).get('states') or {}
            except (ValueError, AttributeError):
                continue  # not ours to judge here: publishing validates definitions
            for state in states.values():
                if isinstance(state, dict) and state.get('type') == state_type \
                        and state.get(key) in record_ids:
                    used.setdefault(state[key], []).append(flow.name)
        return used

    @api.model
    def _check_not_transferred_to(self, records, state_type, key, message):
        """Refuse to delete ``records`` (telephony users or groups) when a published flow of
        their company transfers calls to one of them; ``message`` (translated) names it with
        ``%(name)s`` and the flows with ``%(flows)s``."""
        for company in records.company_id:
            of_company = records.filtered(lambda record: record.company_id == company)
            used = self._transfer_targets(company, state_type, key, set(of_company.ids))
            if used:
                blocker = of_company.filtered(lambda record: record.id in used)[:1]
                raise UserError(message % {
                    'name': blocker.name, 'flows': ", ".join(sorted(set(used[blocker.id])))})

    # ------------------------------------------------------------------------------------------
    # Validation and publication
    # ------------------------------------------------------------------------------------------

    def validate_definition(self, definition):
        """Every problem of ``definition`` (JSON text or dict), one sentence each, in the user's
        language; an empty list when it can be published (rules: docs/contracts.md, F2)."""
        users, groups = self[:1]._company_users_and_groups()
        return flow_validation.validate_definition(definition, users=users, groups=groups,
                                                    _=self.env._,
                                                    calendars=set(self[:1]._company_calendars().ids),
                                                    attachments=self[:1]._playable_attachment_ids())

    def _playable_attachment_ids(self):
        """The ids of the audio files uploaded to this flow: the only files it may play (a flow
        publishes nothing else of the database, neither another company's file nor a mail's)."""
        if not self:
            return set()
        self.ensure_one()
        return set(self.env['ir.attachment'].sudo().search(
            [('res_model', '=', 'telephony.flow'), ('res_id', '=', self.id),
             ('mimetype', '=like', 'audio/%')]).ids)

    @api.constrains('definition')
    def _check_definition_is_json(self):
        # A draft may have problems (it is a draft), but it must stay readable by the builder.
        for flow in self:
            if not flow.definition:
                continue
            try:
                json.loads(flow.definition)
            except RecursionError:
                raise ValidationError(_("The draft of call flow %s is nested too deeply.", flow.name)) from None
            except ValueError as error:
                raise ValidationError(_(
                    "The draft of call flow %(flow)s is not valid JSON (%(error)s). Correct it, or "
                    "import a definition exported from a call flow.", flow=flow.name,
                    error=error)) from error

    def action_publish(self):
        """Make the draft the version incoming calls run.

        :raise odoo.exceptions.ValidationError: listing every problem of the draft.
        """
        for flow in self:
            flow.check_access('write')
            problems = flow.validate_definition(flow.definition or '')
            if problems:
                raise ValidationError(_(
                    "Call flow %(flow)s cannot be published until these problems are solved:\n%(problems)s",
                    flow=flow.name, problems='\n'.join('• ' + problem for problem in problems)))
            definition = dump_definition(json.loads(flow.definition))
            last = flow.published_version_id.version or 0
            version = self.env['telephony.flow.version'].sudo().create({
                'flow_id': flow.id,
                'version': last + 1,
                'definition': definition,
            })
            flow.sudo().write({  # only publication writes these (see write)
                'published_definition': definition,
                'published_version_id': version.id,
                'state': 'published',
            })
            flow.message_post(body=_("Version %(version)s published.", version=version.version))
        return True

    def write(self, vals):
        if not self.env.su and PUBLICATION_FIELDS & set(vals):
            raise AccessError(_(
                "A call flow's published version and state change only by publishing it (the "
                "Publish button, or action_publish)."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_running_calls(self):
        # The calls running a flow follow its published version to their end: deleting the flow
        # (and its versions) under them would cut them off. Disabling it stops new calls at once.
        running = self.env['telephony.call'].sudo().search_count(
            [('flow_id', 'in', self.ids), ('status', 'in', LIVE_CALL_STATUSES),
             ('start_date', '>=', fields.Datetime.now() - MAX_CALL_DURATION)], limit=1)
        if running:
            raise UserError(_(
                "Calls are running this call flow right now: disable it instead (new calls are "
                "then rejected), and delete it once they have ended."))

    def action_discard_draft(self):
        """Start the draft again from the published version."""
        for flow in self.filtered('published_definition'):
            flow.definition = flow.published_definition
        return True

    def _get_running_version(self):
        """The version new incoming calls run, or an empty recordset when the flow rejects calls
        (disabled, or never published)."""
        self.ensure_one()
        # Only what decides it: the incoming-call webhook has no use for the drafts' long texts.
        self.fetch(['active', 'state', 'published_version_id'])
        if not self.active or self.state != 'published':
            return self.env['telephony.flow.version']
        return self.published_version_id

    # ------------------------------------------------------------------------------------------
    # The visual builder (static/src/flow_builder/)
    # ------------------------------------------------------------------------------------------

    @api.model
    def get_builder_schema(self):
        """The call-flow vocabulary (state types, events, settings, defaults, ranges) as the
        engine defines it: the builder reads it instead of repeating it."""
        return flow_definition.builder_schema(_=self.env._)

    def get_builder_data(self):
        """What the builder shows of one flow: both versions, their problems, and the telephony
        users, groups and uploaded audio files they may reference."""
        self.ensure_one()
        self.check_access('read')
        users, groups = self._company_users_and_groups()
        definitions = [self.definition or '', self.published_definition or '']
        attachment_ids = {attachment_id for definition in definitions
                          for attachment_id in _attachment_ids(definition)}
        attachments = self.env['ir.attachment'].browse(attachment_ids).exists()
        return {
            'id': self.id,
            'name': self.name,
            'description': self.description or '',
            'state': self.state,
            'active': self.active,
            'numbers': self.number_ids.mapped('display_name'),
            'definition': self.definition or '',
            'published_definition': self.published_definition or '',
            'published_version': self.published_version or 0,
            'problems': self.check_builder_definition(self.definition or ''),
            'users': [[user_id, name] for user_id, name in users.items()],
            'groups': [[group_id, name] for group_id, name in groups.items()],
            'attachments': [[attachment.id, attachment.name] for attachment in attachments],
            'calendars': [[calendar.id, '%s (%s)' % (calendar.name, calendar.tz)]
                          for calendar in self._company_calendars()],
            'can_edit': self.has_access('write'),
        }

    def check_builder_definition(self, definition):
        """``validate_definition``'s problems, each with the states it is about (found by their
        name in the sentence) so that the builder shows it in place:
        ``[{'message': str, 'state_ids': [state id...]}]``."""
        problems = self.validate_definition(definition)
        try:
            states = flow_definition.load_definition(definition).get('states') or {}
        except (ValueError, AttributeError):
            states = {}
        labels = sorted(((str(state.get('name') or state_id), state_id)
                         for state_id, state in states.items() if isinstance(state, dict)),
                        key=lambda item: -len(item[0]))
        answer = []
        for message in problems:
            state_ids, rest = [], message
            for label, state_id in labels:
                quoted = [f'"{label}"', f'“{label}”', f'« {label} »', f' {label} →', f'→ {label}.']
                if any(candidate in rest for candidate in quoted) and state_id not in state_ids:
                    state_ids.append(state_id)
            answer.append({'message': message, 'state_ids': state_ids})
        return answer

    def save_builder_definition(self, definition):
        """Save the builder's draft (JSON text or dict); answers its problems like
        :meth:`check_builder_definition`."""
        self.ensure_one()
        loaded = flow_definition.load_definition(definition)
        self.definition = dump_definition(loaded)
        return self.check_builder_definition(loaded)

    def action_open_builder(self):
        """Open the visual builder on this flow ("Edit call flow")."""
        self.ensure_one()
        return {
            'type': 'ir.actions.client',
            'tag': 'builtin_telephony.flow_builder',
            'name': self.name,
            'params': {'flow_id': self.id},
            'context': {'active_id': self.id, 'active_model': self._name},
            'target': 'current',
        }

    # ------------------------------------------------------------------------------------------
    # The simulator (B2)
    # ------------------------------------------------------------------------------------------

    def simulate(self, which, choices, caller=False, called=False, hours=False):
        """Walk the ``'draft'`` or ``'published'`` version as a caller would, with the engine
        that answers real calls; nothing is logged or charged (docs/contracts.md).

        ``choices``: one per decision, in order (``'1'``…``'9'``, ``'0'``, ``'*'``, ``''`` at an
        IVR; ``'answered'``, ``'no-answer'``, ``'busy'``, ``'offline'`` at a transfer;
        ``'message'`` or ``''`` at a voicemail). ``caller``: the caller's number (a blocked one
        is rejected before any flow runs); ``called``: the number dialled (shown only);
        ``hours``: ``'open'`` or ``'closed'`` to walk business-hours states as if their working
        hours were open / closed, else (False) as their calendars say now.

        :return: ``{'path': [state ids entered], 'steps': [{'state', 'event', 'said'}],
            'end': 'completed' | 'voicemail' | 'busy' | 'missed' | 'rejected' | 'blocked' |
            'waiting', 'waiting': {'state', 'kind', 'options'} or False}`` — ``waiting`` says
            which decision comes next when the choices ran out.
        """
        self.ensure_one()
        self.check_access('read')
        if which not in ('draft', 'published'):
            raise UserError(_("Simulate the 'draft' or the 'published' version."))
        definition = self.definition if which == 'draft' else self.published_definition
        if not definition:
            raise UserError(_("Call flow %(flow)s has no published version yet.", flow=self.name))
        if not isinstance(choices, (list, tuple)):
            raise UserError(_("The choices must be a list."))
        company = self.company_id or self.env.company
        if caller and self.env['telephony.blocked.number'].sudo().is_blocked(caller, company):
            return {'path': [], 'steps': [], 'end': 'blocked', 'waiting': False}
        try:
            return flow_simulator.simulate(definition, choices, self._simulation_context(hours))
        except (ValueError, flow_simulator.SimulationError) as error:
            raise UserError(str(error)) from error

    def _simulation_context(self, hours=False):
        """The context a call of this flow would get (``FlowContext`` of a call not stored),
        with the simulation's availability, queues and clock."""
        call = self.env['telephony.call'].new({'company_id': (self.company_id or self.env.company).id,
                                               'flow_id': self.id})
        return flow_simulator.SimulatedContext(FlowContext(call),
                                               hours=hours if hours in ('open', 'closed') else None)

    # ------------------------------------------------------------------------------------------
    # Import / export (B6)
    # ------------------------------------------------------------------------------------------

    def action_export_json(self):
        self.ensure_one()
        return self.env['telephony.flow.transfer']._open(self, 'export')

    def action_import_json(self):
        self.ensure_one()
        return self.env['telephony.flow.transfer']._open(self, 'import')

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        return [dict(vals, name=_("%s (copy)", flow.name)) if 'name' not in (default or {}) else vals
                for flow, vals in zip(self, vals_list)]


def _attachment_ids(definition):
    """The ids of the audio files (``{"kind": "file"}`` messages) a definition plays."""
    found = []

    def visit(value):
        if isinstance(value, dict):
            if value.get('kind') == 'file' and isinstance(value.get('attachment_id'), int):
                found.append(value['attachment_id'])
            for nested in value.values():
                visit(nested)
        elif isinstance(value, list):
            for nested in value:
                visit(nested)
    try:
        visit(flow_definition.load_definition(definition) if definition else {})
    except ValueError:
        pass
    return found


def _normalized(definition):
    """A definition's content, whatever its formatting (None when unreadable or empty)."""
    try:
        return json.loads(definition) if definition else None
    except ValueError:
        return definition
