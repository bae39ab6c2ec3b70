from odoo import http
from odoo.http import request

from .. import const
from .twilio_webhook import empty_response, twilio_route


class TelephonyCallerIdController(http.Controller):

    @twilio_route(const.CALLER_ID_ROUTE, answers_twiml=False)
    def twilio_caller_id_status(self, account, **params):
        """Twilio's status callback of an outgoing caller ID verification call."""
        request.env['telephony.caller.id'].sudo()._process_verification_result(account, params)
        return empty_response()
