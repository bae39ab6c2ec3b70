import time

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.misc import hmac as hmac_tool

from ..tools.flow import load_definition

# How long a signed audio URL given to Twilio stays valid.
AUDIO_URL_LIFETIME = 24 * 60 * 60
AUDIO_ROUTE = '/telephony/audio'

# What a version is: set at publication, never changed afterwards.
FROZEN_FIELDS = ('flow_id', 'version', 'definition')


class TelephonyFlowVersion(models.Model):
    """One published version of a call flow, kept unchanged for the calls that run it.

    Publishing adds a version; a call remembers the version it started with, so republishing
    while calls are going on changes nothing for them (F4), and the call's log can always be
    read against the definition that produced it.
    """
    _name = 'telephony.flow.version'
    _description = "Published Call Flow Version"
    _order = 'flow_id, version desc'
    _rec_name = 'version'

    flow_id = fields.Many2one('telephony.flow', required=True, readonly=True, index=True,
                              ondelete='cascade')
    company_id = fields.Many2one(related='flow_id.company_id', store=True, index=True)
    version = fields.Integer(required=True, readonly=True)
    definition = fields.Text(required=True, readonly=True)

    _sql_constraints = [
        ('flow_version_uniq', 'unique(flow_id, version)', "A flow version is published once."),
    ]

    def _compute_display_name(self):
        for version in self:
            version.display_name = f"{version.flow_id.name} v{version.version}"

    def write(self, vals):
        # Immutability is what makes _parsed_definition's cache exact on every worker.
        if set(vals) & set(FROZEN_FIELDS):
            raise UserError(_(
                "A published version of a call flow cannot be changed: calls have run it. Edit "
                "the flow's draft and publish it to make a new version."))
        return super().write(vals)

    def _audio_path(self, attachment_id, expires=None):
        """Path of the signed URL at which Twilio fetches an audio file of this version (valid
        ``AUDIO_URL_LIFETIME`` seconds; no public token is put on the file itself)."""
        self.ensure_one()
        expires = expires or int(time.time()) + AUDIO_URL_LIFETIME
        return f'{AUDIO_ROUTE}/{self.id}/{attachment_id}/{expires}/{self._audio_signature(attachment_id, expires)}'

    def _audio_signature(self, attachment_id, expires):
        return hmac_tool(self.env(su=True), 'telephony_audio', f'{self.id}|{attachment_id}|{expires}')

    def _audio_attachment(self, attachment_id, expires, signature):
        """The attachment a signed audio URL names, if the signature holds, has not expired, and
        the file is still an audio file uploaded to the version's flow and played by it."""
        self.ensure_one()
        if expires < time.time() or not consteq(self._audio_signature(attachment_id, expires), signature or ''):
            return self.env['ir.attachment']
        if attachment_id not in self.flow_id._playable_attachment_ids() \
                or attachment_id not in _file_ids(self._get_definition()):
            return self.env['ir.attachment']
        return self.env['ir.attachment'].sudo().browse(attachment_id)

    def _get_definition(self):
        """The definition as a dict, shared by every webhook of this worker: read it, never
        modify it (the flow engine only reads definitions)."""
        self.ensure_one()
        return self._parsed_definition(self.id)

    @api.model
    @tools.ormcache('version_id')
    def _parsed_definition(self, version_id):
        # Exact with no invalidation (P3): a version is never written after its creation
        # (see write) and PostgreSQL never hands out an id twice, even after a rollback.
        return load_definition(self.sudo().browse(version_id).definition)


def _file_ids(definition):
    """The attachment ids the ``file`` messages of a definition play."""
    ids = set()
    for state in (definition.get('states') or {}).values() if isinstance(definition, dict) else ():
        if not isinstance(state, dict):
            continue
        queue = state.get('queue') if isinstance(state.get('queue'), dict) else {}
        for message in (state.get('message'), queue.get('notify'), queue.get('music')):
            if isinstance(message, dict) and message.get('kind') == 'file':
                ids.add(message.get('attachment_id'))
    return ids
