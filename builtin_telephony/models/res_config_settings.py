from odoo import _, api, fields, models

from .. import const


class ResConfigSettings(models.TransientModel):
    """Settings › Telephony: what an administrator looks for there (I11), read from the Built-in
    Telephony page of the company, where it is changed."""
    _inherit = 'res.config.settings'

    telephony_provider = fields.Char("Telephony provider", compute='_compute_telephony_summary')
    telephony_public_url = fields.Char("Telephony public URL", compute='_compute_telephony_summary')
    telephony_voice_url = fields.Char("Voice webhook", compute='_compute_telephony_summary')
    telephony_user_count = fields.Integer("Telephony users", compute='_compute_telephony_summary')
    telephony_admin_count = fields.Integer("Telephony administrators", compute='_compute_telephony_summary')
    telephony_number_count = fields.Integer("Phone numbers", compute='_compute_telephony_summary')

    @api.depends('company_id')
    def _compute_telephony_summary(self):
        admin_group = self.env.ref('builtin_telephony.group_telephony_admin')
        for settings in self:
            account = self.env['telephony.account']._get_for_company(settings.company_id).sudo()
            settings.telephony_provider = account._fields['provider'].convert_to_export(account.provider, account)
            settings.telephony_public_url = account._webhook_url('')
            settings.telephony_voice_url = account._webhook_url(const.VOICE_ROUTE)
            settings.telephony_user_count = self.env['telephony.user'].sudo().search_count(
                [('company_id', '=', settings.company_id.id)])
            settings.telephony_admin_count = len(account._telephony_admins().filtered('active'))
            settings.telephony_number_count = len(account.number_ids)

    def action_telephony_admins(self):
        """The users who may open Built-in Telephony (Telephony / Administrator)."""
        return {
            'type': 'ir.actions.act_window',
            'name': _("Telephony administrators"),
            'res_model': 'res.users',
            'view_mode': 'list,form',
            'domain': [('groups_id', 'in', self.env.ref('builtin_telephony.group_telephony_admin').ids),
                       ('share', '=', False)],
            'context': {'create': False},
        }
