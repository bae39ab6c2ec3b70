from odoo import api, fields, models


class TelephonyAccountMixin(models.AbstractModel):
    """A record of one company's telephony set-up, listed on a tab of its Built-in Telephony
    page: the company, and the company's account that the tab's one2many goes through."""
    _name = 'telephony.account.mixin'
    _description = "Telephony Account Record"
    _check_company_auto = True

    company_id = fields.Many2one('res.company', required=True, index=True,
                                 default=lambda self: self.env.company)
    account_id = fields.Many2one(
        'telephony.account', compute='_compute_account_id', store=True, readonly=False,
        precompute=True, index=True, ondelete='cascade', check_company=True,
        help="The Built-in Telephony page that lists this record (the company's account).")

    @api.depends('company_id')
    def _compute_account_id(self):
        Account = self.env['telephony.account']
        for record in self:
            record.account_id = Account._get_for_company(record.company_id)
