from odoo import fields, models


class TelephonyRecording(models.Model):
    """A call recording or a voicemail kept at the provider (SPEC §6)."""
    _name = 'telephony.recording'
    _description = "Call Recording"
    _order = 'date desc, id desc'

    call_id = fields.Many2one('telephony.call', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='call_id.company_id', store=True, index=True)
    provider_sid = fields.Char("Recording SID", required=True, readonly=True, copy=False)
    duration = fields.Integer("Duration (s)", readonly=True)
    kind = fields.Selection([('call', "Call recording"), ('voicemail', "Voicemail")],
                            required=True, default='call')
    date = fields.Datetime(default=fields.Datetime.now, readonly=True, index=True)
    state = fields.Selection(
        [('stored', "Stored"), ('deleted', "Deleted"), ('discarded', "Discarded")],
        required=True, default='stored',
        help="Discarded: not stored because the storage plan was full.")

    _sql_constraints = [
        ('provider_sid_uniq', 'unique(provider_sid)', "A recording is recorded once."),
    ]
