from odoo import fields, models


class TelephonyFlow(models.Model):
    """What happens to an incoming call on the flow's numbers (SPEC §4)."""
    _name = 'telephony.flow'
    _description = "Call Flow"
    _inherit = ['mail.thread']
    _order = 'name, id'

    name = fields.Char(required=True, tracking=True)
    description = fields.Text()
    company_id = fields.Many2one('res.company', required=True, index=True,
                                 default=lambda self: self.env.company)
    active = fields.Boolean("Enabled", default=True, tracking=True)
    number_ids = fields.One2many('telephony.number', 'flow_id', string="Numbers")
    definition = fields.Text("Draft definition", help="The call flow, in JSON (the draft).")
    published_definition = fields.Text(readonly=True, copy=False,
                                       help="The version incoming calls run.")
    state = fields.Selection([('draft', "Draft"), ('published', "Published")],
                             required=True, default='draft', readonly=True, copy=False)
