"""Storage usage benchmark (docs/contracts.md, benchmarks): 1,000,000 recordings of one company.

Measured: the Plan details' storage chart as the OWL component obtains it,
``telephony.account.get_storage_usage`` through JSON-RPC on a server with ``--workers=2``,
logged in as a telephony administrator; and the ``storage_used_minutes`` the quota check reads,
through the ORM. Reference, in the same run: one SQL aggregate run directly through psycopg2
(the stored minutes per month). Goal: ≤ 2×.
"""
import statistics
import uuid

from benchlib import OdooServer, drop_company, load_odoo, median_seconds

PASSWORD = 'bench-storage'
TZ = 'Europe/Brussels'
REFERENCE = """
    SELECT to_char(timezone(%(tz)s, timezone('UTC', date)), 'YYYY-MM'), SUM(duration)
      FROM telephony_recording
     WHERE company_id = %(company)s AND state = 'stored'
  GROUP BY 1
"""


def create_recordings(registry, count):
    from odoo import SUPERUSER_ID, api
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env['res.company'].create({'name': f'Bench storage {uuid.uuid4().hex[:8]}'})
        account = env['telephony.account'].create({'company_id': company.id, 'storage_plan': '1m'})
        user = env['res.users'].create({
            'name': 'Bench storage', 'login': f'bench-storage-{uuid.uuid4().hex[:8]}',
            'password': PASSWORD, 'tz': TZ, 'company_id': company.id, 'company_ids': [company.id],
            'groups_id': [env.ref('base.group_user').id,
                          env.ref('builtin_telephony.group_telephony_admin').id]})
        call = env['telephony.call'].create({'provider_sid': f'CAbench{uuid.uuid4().hex}',
                                             'direction': 'inbound', 'company_id': company.id})
        # Over the last two years; one in ten deleted or discarded.
        cr.execute("""
            INSERT INTO telephony_recording
                   (call_id, company_id, provider_sid, duration, kind, date, state, provider_deleted,
                    create_uid, create_date, write_uid, write_date)
            SELECT %(call)s, %(company)s, 'REbench' || %(tag)s || i, 5 + i %% 300, 'call',
                   now() - (i %% 730) * INTERVAL '1 day',
                   CASE WHEN i %% 10 = 0 THEN 'deleted' WHEN i %% 10 = 1 THEN 'discarded' ELSE 'stored' END,
                   TRUE, 1, now(), 1, now()
              FROM generate_series(1, %(count)s) AS i
        """, {'call': call.id, 'company': company.id, 'tag': uuid.uuid4().hex[:6], 'count': count})
        cr.commit()
        return account.id, company.id, user.id, user.login


def drop_recordings(registry, account_id, company_id, user_id):
    from odoo import SUPERUSER_ID, api
    with registry.cursor() as cr:
        cr.execute("DELETE FROM telephony_recording WHERE company_id = %s", [company_id])
        cr.execute("DELETE FROM telephony_call WHERE company_id = %s", [company_id])
        env = api.Environment(cr, SUPERUSER_ID, {})
        env['res.users'].browse(user_id).unlink()
        env['telephony.account'].browse(account_id).unlink()
        drop_company(env, company_id)


def main():
    def arguments(parser):
        parser.add_argument('--recordings', type=int, default=1_000_000)
        parser.set_defaults(repeat=9)
    args, registry = load_odoo(__doc__, arguments)
    import psycopg2
    import odoo.sql_db
    from odoo import api
    import bench_analytics
    from bench_analytics import JsonRpc
    bench_analytics.PASSWORD = PASSWORD
    params = odoo.sql_db.connection_info_for(args.db)[1]
    account_id, company_id, user_id, login = create_recordings(registry, args.recordings)
    try:
        cnx = psycopg2.connect(**params)
        cnx.autocommit = True
        with cnx.cursor() as cr:
            cr.execute("VACUUM ANALYZE telephony_recording")
        with OdooServer(args.db) as server:
            rpc = JsonRpc(server, args.db, login)
            context = {'allowed_company_ids': [company_id], 'tz': TZ}

            def via_rpc():
                return rpc.call_kw('telephony.account', 'get_storage_usage', [[account_id]],
                                   {'months': 24, 'context': context})

            def via_orm():
                with registry.cursor() as cr:
                    account = api.Environment(cr, user_id, context)['telephony.account'].browse(account_id)
                    return account.storage_used_minutes

            def via_sql():
                with cnx.cursor() as cr:
                    cr.execute(REFERENCE, {'tz': TZ, 'company': company_id})
                    return dict(cr.fetchall())

            usage, months = via_rpc(), via_sql()
            exact = abs(usage['used_minutes'] - sum(months.values()) / 60) < 0.1 \
                and all(abs(point['recorded'] - months.get(point['month'], 0) / 60) < 0.1
                        for point in usage['series'][1:])
            exact &= abs(via_orm() - sum(months.values()) / 60) < 0.1
            timings = {}
            for _round in range(args.repeat):
                for name, func in (('SQL', via_sql), ('ORM used minutes', via_orm), ('JSON-RPC', via_rpc)):
                    seconds, _result = median_seconds(func, 1)
                    timings.setdefault(name, []).append(seconds)
        cnx.close()
    finally:
        drop_recordings(registry, account_id, company_id, user_id)
    medians = {name: statistics.median(values) * 1000 for name, values in timings.items()}
    ratio = medians['JSON-RPC'] / medians['SQL']
    ok = exact and ratio <= 2
    print(f"{args.recordings:,} recordings: SQL aggregate {medians['SQL']:.1f} ms | ORM storage_used_minutes "
          f"{medians['ORM used minutes']:.1f} ms | JSON-RPC get_storage_usage {medians['JSON-RPC']:.1f} ms | "
          f"ratio {ratio:.2f} (goal ≤ 2) | same figures: {'yes' if exact else 'NO'}")
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
