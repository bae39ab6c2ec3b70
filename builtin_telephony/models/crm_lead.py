from odoo import _, api, fields, models


class CrmLead(models.Model):
    _inherit = 'crm.lead'

    telephony_call_count = fields.Integer(
        "Calls", compute='_compute_telephony_call_count',
        help="Calls matched to this lead that you may see.")

    @api.depends_context('uid', 'company')
    def _compute_telephony_call_count(self):
        counts = self.env['telephony.call']._count_by_record('lead_id', self.ids)
        for lead in self:
            lead.telephony_call_count = counts.get(lead.id, 0)

    def action_view_telephony_calls(self):
        self.ensure_one()
        return self.env['telephony.call']._action_view_for_record(
            [('lead_id', '=', self.id)], _("Calls of %(lead)s", lead=self.display_name),
            {'default_lead_id': self.id})
