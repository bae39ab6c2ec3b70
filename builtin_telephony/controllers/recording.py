"""Playback of recordings (docs/contracts.md, routes for the web client): thin by design.

The audio is streamed from its attachment with HTTP Range support (seeking in the player), to
users who may read the recording's call (``telephony.recording._get_audio_stream`` checks);
no provider URL or credential ever reaches the browser.
"""
from werkzeug.exceptions import Forbidden, NotFound

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import request

from .. import const


class TelephonyRecordingController(http.Controller):

    @http.route(const.RECORDING_PLAY_ROUTE + '<int:recording_id>', type='http', auth='user',
                methods=['GET', 'HEAD'])
    def play_recording(self, recording_id):
        recording = request.env['telephony.recording'].browse(recording_id).exists()
        if not recording:
            raise NotFound()
        try:
            stream = recording._get_audio_stream()
        except AccessError:
            raise Forbidden() from None
        if not stream:
            raise NotFound()
        # Private: the audio of a call is never kept by shared caches.
        response = stream.get_response(as_attachment=False, max_age=0)
        response.headers['Cache-Control'] = 'private, no-store'
        # Browsers seek in an <audio> only when the server says it takes byte ranges (it does:
        # the stream answers Range requests with 206).
        response.headers.setdefault('Accept-Ranges', 'bytes')
        return response
