"""Call history benchmark (docs/contracts.md, benchmarks): 10k / 100k / 1M calls of one company.

Measured on an Odoo started with ``--workers=2``, logged in as a telephony administrator (time
zone Europe/Brussels), for each size:

- the filtered list page, as the web client asks for it: ``web_search_read`` of
  ``telephony.call`` through JSON-RPC (missed calls of one owner in one quarter, the list view's
  fields, 80 rows, the count up to 10,001), against the same SELECT and COUNT run directly
  through psycopg2;
- the CSV download of the call history filtered to (at most) 100,000 calls:
  ``GET /telephony/calls/export.csv``, against ``COPY (SELECT …) TO STDOUT CSV`` and against the
  same SELECT fetched through psycopg2 (a server-side cursor, every row read), and the peak
  resident memory of the Odoo worker while it streams (sampled every 20 ms), which must stay
  flat as the rows grow.

Goal: ≤ 2× the reference, peak worker memory ≤ 300 MB and flat across sizes.
"""
import statistics
import threading
import time
import uuid

import psutil

from benchlib import OdooServer, drop_company, load_odoo, median_seconds

PASSWORD = 'bench-history'
TZ = 'Europe/Brussels'
# The Telephony › Calls list view's fields (the bench checks that they are still the view's).
LIST_FIELDS = ['start_date', 'call_type', 'user_id', 'from_number_display', 'to_number_display',
               'from_number', 'to_number', 'partner_id', 'lead_id', 'status', 'duration',
               'recording_duration', 'credits', 'flow_id', 'recording_id', 'company_id']
EXPORT_ROWS = 100_000
WORKERS = 2
LIST_PAIRS_PER_ROUND = 10

# The list page's query, written by hand: what the ORM must not be much slower than.
LIST_SQL = """
    SELECT c.id, c.start_date, c.call_type, c.user_id, p.name, c.from_number_display,
           c.to_number_display, c.from_number, c.to_number, c.partner_id, c.lead_id, c.status,
           c.duration, c.recording_duration, c.credits, c.flow_id, c.company_id
      FROM telephony_call c
      LEFT JOIN res_users u ON u.id = c.user_id
      LEFT JOIN res_partner p ON p.id = u.partner_id
     WHERE c.company_id = %(company)s AND c.call_type = 'missed' AND c.user_id = %(owner)s
       AND c.start_date >= %(start)s AND c.start_date < %(end)s
  ORDER BY c.start_date DESC, c.id DESC LIMIT 80
"""
COUNT_SQL = """
    SELECT COUNT(*) FROM (SELECT 1 FROM telephony_call c
     WHERE c.company_id = %(company)s AND c.call_type = 'missed' AND c.user_id = %(owner)s
       AND c.start_date >= %(start)s AND c.start_date < %(end)s LIMIT 10001) AS page
"""
EXPORT_SQL = """
    SELECT to_char(timezone(%(tz)s, timezone('UTC', c.start_date)), 'YYYY-MM-DD HH24:MI:SS'),
           c.call_type, op.name, c.from_number, c.to_number, c.duration, c.recording_duration,
           c.credits, c.status, cp.name, l.name
      FROM telephony_call c
      LEFT JOIN res_users u ON u.id = c.user_id
      LEFT JOIN res_partner op ON op.id = u.partner_id
      LEFT JOIN res_partner cp ON cp.id = c.partner_id
      LEFT JOIN crm_lead l ON l.id = c.lead_id
     WHERE c.company_id = %(company)s AND c.start_date >= %(from)s AND c.start_date < %(to)s
  ORDER BY c.start_date DESC, c.id DESC
"""


def create_calls(registry, count):
    """A company with two telephony users and ``count`` calls, one every 30 s from 2024-01-01."""
    from odoo import SUPERUSER_ID, api
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env['res.company'].create({'name': f'Bench history {uuid.uuid4().hex[:8]}'})
        users = env['res.users'].create([{
            'name': f'Bench history {index}', 'login': f'bench-history-{uuid.uuid4().hex[:8]}',
            'password': PASSWORD, 'tz': TZ, 'company_id': company.id, 'company_ids': [company.id],
            'groups_id': [env.ref('base.group_user').id,
                          env.ref('builtin_telephony.group_telephony_admin').id]} for index in range(2)])
        partner = env['res.partner'].create({'name': 'Bench contact', 'company_id': company.id})
        view = env['telephony.call'].get_views([(False, 'list')])
        assert set(view['models']['telephony.call']['fields']) - {'id', 'write_date'} == set(LIST_FIELDS), \
            "LIST_FIELDS are no longer the list view's fields"
        # The numbers as the ORM stores them, formatted.
        from odoo.addons.builtin_telephony.tools.phone import format_international
        from_display = [format_international('+3225550%03d' % index) for index in range(1000)]
        to_display = format_international('+14155550142')
        cr.execute("""
            INSERT INTO telephony_call
                   (provider_sid, direction, status, call_type, missed_percent, from_number, to_number,
                    from_number_display, to_number_display, company_id, user_id, partner_id, start_date,
                    duration, recording_duration, credits,
                    create_uid, create_date, write_uid, write_date)
            SELECT 'CAbench' || %(tag)s || i,
                   CASE WHEN i %% 3 = 0 THEN 'outbound' ELSE 'inbound' END,
                   CASE WHEN i %% 3 = 1 THEN 'missed' ELSE 'completed' END,
                   CASE WHEN i %% 3 = 0 THEN 'outgoing' WHEN i %% 3 = 1 THEN 'missed' ELSE 'incoming' END,
                   CASE WHEN i %% 3 = 1 THEN 100 ELSE 0 END,
                   '+3225550' || lpad((i %% 1000)::text, 3, '0'), '+14155550142',
                   (%(from_display)s::varchar[])[1 + i %% 1000], %(to_display)s,
                   %(company)s, (ARRAY[%(a)s, %(b)s])[1 + i %% 2], CASE WHEN i %% 5 = 0 THEN %(partner)s END,
                   TIMESTAMP '2024-01-01' + i * INTERVAL '30 seconds', i %% 600, i %% 120, (i %% 50) / 100.0,
                   1, now(), 1, now()
              FROM generate_series(1, %(count)s) AS i
        """, {'tag': uuid.uuid4().hex[:6], 'company': company.id, 'a': users[0].id, 'b': users[1].id,
              'partner': partner.id, 'count': count, 'from_display': from_display,
              'to_display': to_display})
        cr.execute("ANALYZE telephony_call")
        cr.commit()
        return company.id, users.ids, users[0].login, partner.id


def drop_calls(registry, company_id, user_ids, partner_id):
    from odoo import SUPERUSER_ID, api
    with registry.cursor() as cr:
        cr.execute("DELETE FROM telephony_call WHERE company_id = %s", [company_id])
        env = api.Environment(cr, SUPERUSER_ID, {})
        env['res.users'].browse(user_ids).unlink()
        env['res.partner'].browse(partner_id).unlink()
        drop_company(env, company_id)


class PeakMemory:
    """Peak resident memory (MB) of the server's worker processes while the block runs."""

    def __init__(self, server):
        self.workers = psutil.Process(server.process.pid).children()
        self.peak, self._running = 0, False

    def __enter__(self):
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            for worker in self.workers:
                try:
                    self.peak = max(self.peak, worker.memory_info().rss / 2 ** 20)
                except psutil.Error:
                    pass
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()


def main():
    def arguments(parser):
        parser.add_argument('--sizes', default='10000,100000,1000000',
                            help="numbers of calls, comma-separated")
        parser.set_defaults(repeat=5)
    args, registry = load_odoo(__doc__, arguments)
    import psycopg2
    import odoo.sql_db
    from bench_analytics import JsonRpc
    import bench_analytics
    bench_analytics.PASSWORD = PASSWORD
    params = odoo.sql_db.connection_info_for(args.db)[1]
    ok, peaks = True, []
    for size in [int(size) for size in args.sizes.split(',')]:
        company_id, user_ids, login, partner_id = create_calls(registry, size)
        try:
            cnx = psycopg2.connect(**params)
            cnx.autocommit = True
            with cnx.cursor() as cr:
                cr.execute("VACUUM ANALYZE telephony_call")
            with OdooServer(args.db, workers=WORKERS) as server:
                rpc = JsonRpc(server, args.db, login)
                context = {'allowed_company_ids': [company_id], 'tz': TZ, 'lang': 'en_US'}
                # One quarter of 2024, missed calls of the first user (the list's filters).
                list_params = {'company': company_id, 'owner': user_ids[0],
                               'start': '2024-01-01 00:00:00', 'end': '2024-04-01 00:00:00'}
                domain = [('call_type', '=', 'missed'), ('user_id', '=', user_ids[0]),
                          ('start_date', '>=', list_params['start']), ('start_date', '<', list_params['end'])]
                spec = {name: {} for name in LIST_FIELDS}
                spec['user_id'] = spec['partner_id'] = spec['lead_id'] = spec['flow_id'] = \
                    spec['recording_id'] = {'fields': {'display_name': {}}}

                def via_rpc():
                    return rpc.call_kw('telephony.call', 'web_search_read', [], {
                        'domain': domain, 'specification': spec, 'limit': 80, 'offset': 0,
                        'order': '', 'count_limit': 10001, 'context': context})

                def via_sql():
                    with cnx.cursor() as cr:
                        cr.execute(LIST_SQL, list_params)
                        rows = cr.fetchall()
                        cr.execute(COUNT_SQL, list_params)
                        return rows, cr.fetchone()[0]

                page = via_rpc()
                rows, count = via_sql()
                exact = [record['id'] for record in page['records']] == [row[0] for row in rows] \
                    and page['length'] == count
                # The export: the last EXPORT_ROWS calls (or all), by their days in Brussels.
                exported = min(size, EXPORT_ROWS)
                with cnx.cursor() as cr:
                    cr.execute("SELECT start_date FROM telephony_call WHERE company_id = %s "
                               "ORDER BY start_date DESC LIMIT 1 OFFSET %s", [company_id, exported - 1])
                    first_day = cr.fetchone()[0].date()
                    cr.execute("SELECT COUNT(*) FROM telephony_call WHERE company_id = %s "
                               "AND start_date >= timezone('UTC', timezone(%s, %s::timestamp))",
                               [company_id, TZ, first_day])
                    exported = cr.fetchone()[0]
                    cr.execute("SELECT timezone('UTC', timezone(%s, %s::timestamp))", [TZ, first_day])
                    export_from = cr.fetchone()[0]
                export_params = {'tz': TZ, 'company': company_id, 'from': export_from, 'to': '2100-01-01'}
                url = f'{server.url}/telephony/calls/export.csv?date_from={first_day}'

                def via_http():
                    lines = 0
                    with rpc.session.get(url, stream=True, timeout=600) as response:
                        response.raise_for_status()
                        for chunk in response.iter_content(65536):
                            lines += chunk.count(b'\n')
                    return lines - 1

                def via_copy():
                    class Sink:
                        lines = 0

                        def write(self, data):
                            Sink.lines += data.count('\n') if isinstance(data, str) else data.count(b'\n')
                    sink = Sink()
                    with cnx.cursor() as cr:
                        cr.copy_expert(cr.mogrify(f"COPY ({EXPORT_SQL}) TO STDOUT CSV", export_params).decode(), sink)
                    return Sink.lines

                def via_select():
                    with psycopg2.connect(**params) as fetch_cnx, fetch_cnx.cursor(name='bench') as cr:
                        cr.itersize = 2000
                        cr.execute(EXPORT_SQL, export_params)
                        return sum(1 for _row in cr)

                timings = {}
                peak = 0
                # Both workers warm (their first request fills Odoo's caches), as in production.
                for _warm_up in range(5 * WORKERS):
                    via_rpc()
                for _round in range(args.repeat):
                    # The list page is short: several alternated pairs per round.
                    measures = [('list SQL', via_sql), ('list JSON-RPC', via_rpc)] * LIST_PAIRS_PER_ROUND
                    for name, func in measures + [('COPY', via_copy), ('SELECT', via_select),
                                                  ('CSV HTTP', via_http)]:
                        if name == 'CSV HTTP':
                            with PeakMemory(server) as memory:
                                seconds, lines = median_seconds(func, 1)
                            peak = max(peak, memory.peak)
                            exact &= lines == exported
                        else:
                            seconds, result = median_seconds(func, 1)
                            if name in ('COPY', 'SELECT'):
                                exact &= result == exported
                        timings.setdefault(name, []).append(seconds)
            cnx.close()
        finally:
            drop_calls(registry, company_id, user_ids, partner_id)
        medians = {name: statistics.median(values) * 1000 for name, values in timings.items()}
        list_ratio = medians['list JSON-RPC'] / medians['list SQL']
        csv_ratio = medians['CSV HTTP'] / medians['COPY']
        peaks.append(peak)
        ok &= exact and list_ratio <= 2 and csv_ratio <= 2 and peak <= 300
        print(f"{size:,} calls: list page SQL {medians['list SQL']:.1f} ms | JSON-RPC "
              f"{medians['list JSON-RPC']:.1f} ms | ratio {list_ratio:.2f} (goal ≤ 2); "
              f"CSV of {exported:,} rows: COPY {medians['COPY']:.0f} ms | SELECT {medians['SELECT']:.0f} ms | "
              f"HTTP {medians['CSV HTTP']:.0f} ms | ratio to COPY {csv_ratio:.2f}, to SELECT "
              f"{medians['CSV HTTP'] / medians['SELECT']:.2f} (goal ≤ 2) | peak worker RSS {peak:.0f} MB "
              f"(goal ≤ 300) | same rows: {'yes' if exact else 'NO'}", flush=True)
    flat = max(peaks) - min(peaks) <= 50
    print(f"peak worker memory across sizes: {', '.join(f'{peak:.0f}' for peak in peaks)} MB "
          f"(flat: {'yes' if flat else 'NO'}); every goal met: {'yes' if ok and flat else 'NO'}")
    return 0 if ok and flat else 1


if __name__ == '__main__':
    raise SystemExit(main())
