"""The call history's CSV download (docs/contracts.md, routes for the web client): thin by design.

The model builds the query (the user's access rules, time zone and filters) and streams it; this
route parses nothing itself and answers 400 with the reason when a parameter is wrong.
"""
from werkzeug.exceptions import BadRequest

from odoo import fields, http
from odoo.http import content_disposition, request

from .. import const


class TelephonyCallHistoryController(http.Controller):

    @http.route(const.CALLS_EXPORT_ROUTE, type='http', auth='user', methods=['GET'])
    def export_calls_csv(self, call_type=None, user_id=None, date_from=None, date_to=None,
                         domain=None, period=None, **unknown):
        if unknown:
            raise BadRequest(request.env._(
                "Unknown parameter(s): %(names)s. Filter with call_type, user_id, date_from, "
                "date_to, period or domain.", names=", ".join(sorted(unknown))))
        calls = request.env['telephony.call']
        try:
            history_domain, _first, _last = calls._history_domain(
                call_type, user_id, date_from, date_to, period=period, domain=domain)
        except ValueError as error:
            raise BadRequest(str(error)) from None
        filename = "calls-%s.csv" % fields.Date.to_string(fields.Date.context_today(calls))
        return request.make_response(calls._history_csv(history_domain), headers=[
            ('Content-Type', 'text/csv; charset=utf-8'),
            ('Content-Disposition', content_disposition(filename)),
            ('Cache-Control', 'no-store'),
        ])
