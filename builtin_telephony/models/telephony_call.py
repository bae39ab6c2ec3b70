from odoo import fields, models

CALL_STATUSES = [
    ('ringing', "Ringing"), ('in_progress', "In progress"), ('completed', "Completed"),
    ('missed', "Missed"), ('busy', "Busy"), ('failed', "Failed"), ('rejected', "Rejected"),
    ('blocked', "Blocked"), ('voicemail', "Voicemail"),
]


class TelephonyCall(models.Model):
    """One call, incoming or outgoing, as the provider reported it (SPEC H1)."""
    _name = 'telephony.call'
    _description = "Call"
    _order = 'start_date desc, id desc'
    _rec_name = 'provider_sid'

    provider_sid = fields.Char("Call SID", required=True, readonly=True, copy=False)
    direction = fields.Selection([('inbound', "Incoming"), ('outbound', "Outgoing")],
                                 required=True, readonly=True, index=True)
    status = fields.Selection(CALL_STATUSES, required=True, default='ringing', index=True)
    from_number = fields.Char("From", readonly=True, index=True)
    to_number = fields.Char("To", readonly=True, index=True)
    number_id = fields.Many2one('telephony.number', string="Our number", readonly=True,
                                ondelete='set null', index='btree_not_null')
    company_id = fields.Many2one('res.company', required=True, index=True, readonly=True,
                                 default=lambda self: self.env.company)
    user_id = fields.Many2one('res.users', string="Call owner", index=True)
    partner_id = fields.Many2one('res.partner', string="Contact", index='btree_not_null')
    lead_id = fields.Many2one('crm.lead', string="Lead", index='btree_not_null')
    flow_id = fields.Many2one('telephony.flow', string="Call flow", readonly=True,
                              ondelete='set null')
    start_date = fields.Datetime(default=fields.Datetime.now, readonly=True, index=True)
    answer_date = fields.Datetime(readonly=True)
    end_date = fields.Datetime(readonly=True)
    duration = fields.Integer("Duration (s)", readonly=True)
    recording_duration = fields.Integer("Recording duration (s)", readonly=True)
    credits = fields.Float("Credits charged", digits=(16, 4), readonly=True)
    recording_ids = fields.One2many('telephony.recording', 'call_id', string="Recordings")

    _sql_constraints = [
        ('provider_sid_uniq', 'unique(provider_sid)', "A call is recorded once."),
    ]
