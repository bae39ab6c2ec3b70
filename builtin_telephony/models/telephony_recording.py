from odoo import api, fields, models


class TelephonyRecording(models.Model):
    """A call recording or a voicemail kept at the provider (requirements §6)."""
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
    media_url = fields.Char("Provider URL", readonly=True, copy=False,
                            help="Where the provider keeps the audio (RecordingUrl).")

    _sql_constraints = [
        ('provider_sid_uniq', 'unique(provider_sid)', "A recording is recorded once."),
    ]

    # Twilio's RecordingSource of a voicemail (the <Record> verb); every other source is a call.
    VOICEMAIL_SOURCE = 'RecordVerb'

    @api.model
    def _twilio_recording_status(self, account, params):
        """Recording status callback: keep a finished recording once (idempotent on its SID),
        as a voicemail or a call recording, and total its minutes on the call."""
        if params.get('RecordingStatus', 'completed') != 'completed':
            return
        call = self.env['telephony.call']._find_call(account, params.get('CallSid'))
        if not call or self.search_count([('provider_sid', '=', params.get('RecordingSid'))]):
            return
        self.create({
            'call_id': call.id,
            'provider_sid': params['RecordingSid'],
            'duration': int(params.get('RecordingDuration') or 0),
            'kind': 'voicemail' if params.get('RecordingSource') == self.VOICEMAIL_SOURCE else 'call',
            'media_url': params.get('RecordingUrl'),
        })
        call.recording_duration = sum(call.recording_ids.mapped('duration'))
