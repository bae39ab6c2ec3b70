from odoo import api, fields, models
from odoo.tools.misc import formatLang

from ..models.telephony_account import STORAGE_PLAN_MINUTES, STORAGE_PLAN_PRICES


class TelephonyStoragePlanChange(models.TransientModel):
    """The purchase summary of a recording storage plan (requirements R2): what the plan holds, what it
    costs now and monthly, and why it cannot be chosen; confirming calls ``set_storage_plan``."""
    _name = 'telephony.storage.plan.change'
    _description = "Change the recording storage plan"

    account_id = fields.Many2one('telephony.account', required=True, ondelete='cascade')
    current_plan = fields.Selection(related='account_id.storage_plan', string="Current plan")
    storage_plan = fields.Selection(
        selection=lambda self: self.env['telephony.account']._fields['storage_plan']._description_selection(self.env),
        string="New plan", required=True)
    used_minutes = fields.Float("Minutes stored", digits=(16, 1), compute='_compute_summary')
    limit_minutes = fields.Integer("Minutes in the plan", compute='_compute_summary')
    monthly_price = fields.Float("Credits per month", digits=(16, 2), compute='_compute_summary')
    due_now = fields.Float("Charged now", digits=(16, 2), compute='_compute_summary')
    balance = fields.Float("Available credits", digits=(16, 2), compute='_compute_summary')
    refusal = fields.Char(compute='_compute_summary')

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        account_id = values.get('account_id') or (
            context.get('active_model') == 'telephony.account' and context.get('active_id'))
        account = self.env['telephony.account'].browse(account_id) if account_id \
            else self.env['telephony.account']._get_for_company()
        values['account_id'] = account.id
        if 'storage_plan' in fields_list and not values.get('storage_plan'):
            # Offer the next plan up: the usual reason to come here.
            plans = list(STORAGE_PLAN_PRICES)
            index = plans.index(account.storage_plan)
            values['storage_plan'] = plans[min(index + 1, len(plans) - 1)]
        return values

    @api.depends('account_id', 'storage_plan')
    def _compute_summary(self):
        for wizard in self:
            if not (wizard.account_id and wizard.storage_plan):
                wizard.update({'used_minutes': 0, 'limit_minutes': 0, 'monthly_price': 0,
                               'due_now': 0, 'balance': 0, 'refusal': False})
                continue
            summary = wizard.account_id.get_storage_plan_summary(wizard.storage_plan)
            wizard.update({
                'used_minutes': summary['used_minutes'],
                'limit_minutes': STORAGE_PLAN_MINUTES[wizard.storage_plan],
                'monthly_price': summary['monthly_price'],
                'due_now': summary['due_now'],
                'balance': summary['balance'],
                'refusal': summary['reason'],
            })

    def action_confirm(self):
        self.ensure_one()
        result = self.account_id.set_storage_plan(self.storage_plan)
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'message': self.env._(
                    "Storage plan changed: %(minutes)s minutes, %(charged)s credits charged now.",
                    minutes=formatLang(self.env, result['storage_limit_minutes'], digits=0),
                    charged=formatLang(self.env, result['charged'])),
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }
