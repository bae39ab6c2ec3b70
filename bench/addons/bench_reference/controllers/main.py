"""The minimal Odoo routes the benchmarks compare with: as little as an Odoo route can do with the
database, so that whatever a telephony webhook costs beyond it is the add-on's own.

- ``/bench/reference`` (bench/bench_inbound_call.py): one public POST (no CSRF, no session), one
  row read by an index, a tiny XML answer;
- ``/bench/reference/charge`` (bench/bench_wallet.py): one public POST running the reference
  ``UPDATE`` of one balance row through the request's cursor, committed by Odoo as any request.
"""
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

    @http.route('/bench/reference/charge', type='http', auth='public', methods=['POST'], csrf=False,
                save_session=False)
    def charge(self, credits='0', **params):
        request.env.cr.execute("UPDATE bench_balance SET balance = balance - %s WHERE id = 1",
                               [float(credits)])
        return request.make_response('', status=204)

    @http.route('/bench/notify', type='http', auth='public', methods=['POST'], csrf=False,
                save_session=False)
    def notify(self, **params):
        """The reference of bench/bench_screen_pop.py: the same bus notification a ringing call
        sends its rung user, from a route that does nothing else (one row read by its id)."""
        user = request.env['res.users'].sudo().browse(int(params.get('user') or 0))
        user._bus_send('builtin_telephony/ringing', {
            'call_id': '0', 'caller_name': '', 'partner_id': '0', 'lead_id': '0',
            'number': params.get('From') or ''})
        return request.make_response('', status=204)
