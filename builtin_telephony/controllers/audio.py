from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request


class TelephonyAudioController(http.Controller):

    @http.route('/telephony/audio/<int:version_id>/<int:attachment_id>/<int:expires>/<string:signature>',
                type='http', auth='public', methods=['GET'], save_session=False)
    def telephony_audio(self, version_id, attachment_id, expires, signature):
        """An audio file a call flow plays, for Twilio's <Play>: only with the signature the
        flow's TwiML carries, before it expires, and only an audio file uploaded to that flow."""
        version = request.env['telephony.flow.version'].sudo().browse(version_id).exists()
        attachment = version and version._audio_attachment(attachment_id, expires, signature)
        if not attachment:
            raise NotFound()
        return request.env['ir.binary']._get_stream_from(attachment).get_response()
