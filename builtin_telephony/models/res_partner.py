from odoo import models
from odoo.tools.sql import create_index


class ResPartner(models.Model):
    _inherit = 'res.partner'

    def init(self):
        super().init()
        # Caller matching (telephony.call._match_caller) reads contacts by phone_sanitized, which
        # sms adds to res.partner without an index when installed: one indexed query per incoming
        # call (P3).
        field = self._fields.get('phone_sanitized')
        if field and field.store:
            create_index(self.env.cr, 'res_partner_phone_sanitized_telephony_index', self._table,
                         ['phone_sanitized'], where='phone_sanitized IS NOT NULL')
