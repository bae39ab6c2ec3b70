"""The reference of bench/bench_inbound_call.py: as little as an Odoo route can do with the
database — one public POST (no CSRF, no session), one row read by an index, a tiny XML answer.
Whatever a telephony webhook costs beyond this is the add-on's own."""
from odoo import http
from odoo.http import request


class BenchReference(http.Controller):

    @http.route('/bench/reference', type='http', auth='public', methods=['POST'], csrf=False,
                save_session=False)
    def reference(self, **params):
        number = request.env['telephony.number'].sudo().search_read(
            [('phone_number', '=', params.get('To'))], ['id'], limit=1)
        body = '<Response><Say>%s</Say></Response>' % (number[0]['id'] if number else 0)
        return request.make_response(body, headers=[('Content-Type', 'text/xml')])
