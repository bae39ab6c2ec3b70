from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError

from ..tools.flow import load_definition

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
