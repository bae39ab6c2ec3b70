from odoo import fields, models


class TelephonyFlowVersion(models.Model):
    """One published version of a call flow, kept unchanged for the calls that run it.

    Publishing adds a version; a call remembers the version it started with, so republishing
    while calls are going on changes nothing for them (SPEC F4), and the call's log can always be
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
