from odoo import _, api, fields, models
from odoo.tools.sql import create_index


class ResPartner(models.Model):
    _inherit = 'res.partner'

    telephony_call_count = fields.Integer(
        "Calls", compute='_compute_telephony_call_count',
        help="Calls matched to this contact that you may see.")

    @api.depends_context('uid', 'company')
    def _compute_telephony_call_count(self):
        counts = self.env['telephony.call']._count_by_record('partner_id', self.ids)
        for partner in self:
            partner.telephony_call_count = counts.get(partner.id, 0)

    def action_view_telephony_calls(self):
        self.ensure_one()
        return self.env['telephony.call']._action_view_for_record(
            [('partner_id', '=', self.id)], _("Calls of %(contact)s", contact=self.display_name),
            {'default_partner_id': self.id})

    def init(self):
        super().init()
        # Caller matching (telephony.call._match_caller) reads contacts by phone_sanitized, which
        # sms adds to res.partner without an index when installed: one indexed query per incoming
        # call (P3).
        field = self._fields.get('phone_sanitized')
        if field and field.store:
            create_index(self.env.cr, 'res_partner_phone_sanitized_telephony_index', self._table,
                         ['phone_sanitized'], where='phone_sanitized IS NOT NULL')
