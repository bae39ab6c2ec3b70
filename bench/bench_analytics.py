"""Credit analytics benchmark (CONTRACTS §Benchmarks): 1,000,000 ledger lines of one account.

Measured: the figures of the Plan details tab's credit analytics (credits purchased and used in
a period, and the chart's bars per day, week or month in the user's time zone), obtained as the
OWL component obtains them: ``telephony.account.get_credit_analytics`` called through Odoo's
JSON-RPC ``/web/dataset/call_kw`` on a server started with ``--workers=2``, logged in as a
telephony administrator whose time zone is not UTC. Also shown: the same method through the ORM
in this process (a fresh cursor and environment per call, as a request).

Reference, measured in the same run: one SQL statement run directly through psycopg2 that
computes the same figures (the same bars, bounds in the same time zone, and the totals), written
the fastest way we know: one index range scan per bar. Also shown, for comparison: the
statement that converts each line's date to the time zone and groups by it (the add-on's former
query). Goal: JSON-RPC ≤ 2× the reference, for a month, a quarter and a year.
The recording storage usage is measured by the recordings issue's benchmark.

Also measured on the same account: the credit balance every call webhook reads
(``telephony.wallet.transaction._balances`` through the ORM, in an open cursor as in a webhook's
request), against the same SQL statement run directly, with the 1,000,000 lines unsettled and
then settled by the hourly cron's ``telephony.wallet.transaction._settle``. Checked: the balance equals the ledger's
sum everywhere.
"""
import statistics
import uuid
from datetime import date, timedelta

from benchlib import OdooServer, load_odoo, median_seconds

LINES = 1_000_000
TZ = 'Europe/Brussels'
PASSWORD = 'bench-analytics'
PERIODS = [('one month', '2025-03-01', '2025-03-31'),
           ('one quarter', '2024-04-01', '2024-06-30'),
           ('one year', '2024-01-01', '2024-12-31')]
PURCHASED = ('purchase', 'auto_recharge', 'adjustment')
USED = ('number', 'call', 'storage', 'refund')

# Bars and totals (the NULL label, from ROLLUP) in one statement.
REFERENCE = """
    SELECT bar.label::date, SUM(totals.purchased), SUM(totals.used)
      FROM generate_series(date_trunc(%(bucket)s, %(start)s::timestamp),
                           %(end)s::timestamp - interval '1 day', %(step)s::interval) AS bar(label),
   LATERAL (SELECT COUNT(*) AS lines,
                   COALESCE(SUM(credits) FILTER (WHERE kind IN %(purchased)s), 0) AS purchased,
                   COALESCE(-SUM(credits) FILTER (WHERE kind IN %(used)s), 0) AS used
              FROM telephony_wallet_transaction
             WHERE account_id = %(account)s
               AND date >= timezone('UTC', timezone(%(tz)s, GREATEST(bar.label, %(start)s::timestamp)))
               AND date < timezone('UTC', timezone(%(tz)s, LEAST(bar.label + %(step)s::interval,
                                                                 %(end)s::timestamp)))) AS totals
  GROUP BY ROLLUP (bar.label)
  ORDER BY 1 NULLS LAST
"""
PER_LINE = """
    SELECT date_trunc(%(bucket)s, timezone(%(tz)s, timezone('UTC', date)))::date,
           COALESCE(SUM(credits) FILTER (WHERE kind IN %(purchased)s), 0),
           COALESCE(-SUM(credits) FILTER (WHERE kind IN %(used)s), 0)
      FROM telephony_wallet_transaction
     WHERE account_id = %(account)s
       AND date >= timezone('UTC', timezone(%(tz)s, %(start)s::timestamp))
       AND date < timezone('UTC', timezone(%(tz)s, %(end)s::timestamp))
  GROUP BY ROLLUP (date_trunc(%(bucket)s, timezone(%(tz)s, timezone('UTC', date)))::date)
  ORDER BY 1 NULLS LAST
"""


def create_ledger(registry):
    """A company, its account with 1,000,000 lines over 2024-2025, and a telephony administrator
    of that company (time zone ``TZ``) who can log in."""
    from odoo import SUPERUSER_ID, api
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env['res.company'].create({'name': f'Bench analytics {uuid.uuid4().hex[:8]}'})
        account = env['telephony.account'].create({'company_id': company.id})
        user = env['res.users'].create({
            'name': 'Bench analytics', 'login': f'bench-analytics-{uuid.uuid4().hex[:8]}',
            'password': PASSWORD, 'tz': TZ, 'company_id': company.id, 'company_ids': [company.id],
            'groups_id': [env.ref('base.group_user').id,
                          env.ref('builtin_telephony.group_telephony_admin').id]})
        # Calls mostly, a number charge every 97 lines, a purchase every 1,000.
        cr.execute("""
            INSERT INTO telephony_wallet_transaction
                   (account_id, company_id, kind, credits, credits_in, credits_out, reference, date,
                    user_id, settled, create_uid, create_date, write_uid, write_date)
            SELECT %(account)s, %(company)s,
                   CASE WHEN i %% 1000 = 0 THEN 'purchase' WHEN i %% 97 = 0 THEN 'number' ELSE 'call' END,
                   CASE WHEN i %% 1000 = 0 THEN 50 ELSE -0.02 END,
                   CASE WHEN i %% 1000 = 0 THEN 50 ELSE 0 END,
                   CASE WHEN i %% 1000 = 0 THEN 0 ELSE 0.02 END,
                   'bench-' || i, TIMESTAMP '2024-01-01' + (i * INTERVAL '63 seconds'),
                   1, FALSE, 1, now(), 1, now()
              FROM generate_series(1, %(lines)s) AS i
        """, {'account': account.id, 'company': company.id, 'lines': LINES})
        cr.commit()
        return account.id, company.id, user.id, user.login


def drop_ledger(registry, account_id, company_id, user_id):
    from odoo import SUPERUSER_ID, api
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env['res.users'].browse(user_id).unlink()
        env['telephony.account'].browse(account_id).unlink()  # its ledger goes with it
        company = env['res.company'].browse(company_id)
        partner = company.partner_id
        company.unlink()
        partner.unlink()


def vacuum(params):
    """VACUUM ANALYZE, as autovacuum does to a table of this size: index-only scans need the
    visibility map it sets, for the reference and the add-on alike."""
    import psycopg2
    cnx = psycopg2.connect(**params)
    cnx.autocommit = True
    with cnx.cursor() as cr:
        cr.execute("VACUUM ANALYZE telephony_wallet_transaction")
    cnx.close()


class JsonRpc:
    """The web client's way in: a session cookie, then ``call_kw`` requests."""

    def __init__(self, server, db, login):
        import requests
        self.url, self.session, self.ids = server.url, requests.Session(), 0
        self.call('/web/session/authenticate', {'db': db, 'login': login, 'password': PASSWORD})

    def call(self, path, params):
        self.ids += 1
        response = self.session.post(self.url + path, timeout=120, json={
            'jsonrpc': '2.0', 'method': 'call', 'id': self.ids, 'params': params})
        response.raise_for_status()
        answer = response.json()
        if 'error' in answer:
            raise RuntimeError(answer['error']['data']['message'])
        return answer['result']

    def call_kw(self, model, method, args, kwargs):
        return self.call(f'/web/dataset/call_kw/{model}/{method}',
                         {'model': model, 'method': method, 'args': args, 'kwargs': kwargs})


def same_figures(figures, rows):
    """Whether ``get_credit_analytics``'s answer has the reference's bars and totals."""
    *bars, (_none, purchased, used) = rows
    return (abs(figures['purchased'] - float(purchased)) < 1e-6
            and abs(figures['used'] - float(used)) < 1e-6
            and [point['label'] for point in figures['series']] == [str(day) for day, _p, _u in bars]
            and all(abs(point['purchased'] - float(p)) < 1e-6 and abs(point['used'] - float(u)) < 1e-6
                    for point, (_day, p, u) in zip(figures['series'], bars)))


def measure_balance(registry, cnx, account_id, user_id, repeat):
    """Median ms of the balance read through the ORM and of its SQL run directly, and the
    balance each gives."""
    from odoo import api

    timings, balances = {}, {}
    with registry.cursor() as orm_cr:
        env = api.Environment(orm_cr, user_id, {})
        account = env['telephony.account'].browse(account_id)
        ledger = env['telephony.wallet.transaction']
        query = ledger._balances_query(account)

        def via_orm():
            return ledger._balances(account)[account_id]

        def via_sql():
            with cnx.cursor() as cr:
                cr.execute(query.code, query.params)
                return cr.fetchone()[1]

        for _round in range(repeat):
            for name, func in (('SQL', via_sql), ('ORM', via_orm)):
                seconds, balances[name] = median_seconds(func, 1)
                timings.setdefault(name, []).append(seconds)
    return {name: statistics.median(values) * 1000 for name, values in timings.items()}, balances


def bench_balance(registry, params, cnx, account_id, user_id, repeat):
    """The balance read before and after the settling cron; whether it stays exact."""
    import time
    from odoo import SUPERUSER_ID, api
    with cnx.cursor() as cr:
        cr.execute("SELECT SUM(credits) FROM telephony_wallet_transaction WHERE account_id = %s", [account_id])
        ledger_sum = float(cr.fetchone()[0])
    before, balances_before = measure_balance(registry, cnx, account_id, user_id, repeat)
    start = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env['telephony.wallet.transaction']._settle(env['telephony.account'].browse(account_id))
    settle_seconds = time.perf_counter() - start
    vacuum(params)  # the settled lines' old versions are garbage, as autovacuum would find them
    after, balances_after = measure_balance(registry, cnx, account_id, user_id, repeat)
    exact = all(abs(float(balance) - ledger_sum) < 1e-6
                for balance in (*balances_before.values(), *balances_after.values()))
    print(f"balance read, 1,000,000 unsettled lines: SQL {before['SQL']:.2f} ms | ORM {before['ORM']:.2f} ms; "
          f"settling them once: {settle_seconds:.1f} s; settled: SQL {after['SQL']:.2f} ms | "
          f"ORM {after['ORM']:.2f} ms | "
          f"balance = ledger sum ({ledger_sum:.4f}) everywhere: {'yes' if exact else 'NO'}", flush=True)
    return exact


def main():
    args, registry = load_odoo(__doc__, lambda parser: parser.set_defaults(repeat=9))
    import psycopg2
    import odoo.sql_db
    from odoo import api
    params = odoo.sql_db.connection_info_for(args.db)[1]
    account_id, company_id, user_id, login = create_ledger(registry)
    ok = True
    try:
        vacuum(params)
        cnx = psycopg2.connect(**params)
        cnx.autocommit = True
        with OdooServer(args.db) as server:
            rpc = JsonRpc(server, args.db, login)
            context = {'allowed_company_ids': [company_id], 'tz': TZ}
            for label, date_from, date_to in PERIODS:
                def via_rpc():
                    return rpc.call_kw('telephony.account', 'get_credit_analytics', [[account_id], 'custom'],
                                       {'date_from': date_from, 'date_to': date_to, 'context': context})

                def via_orm():
                    with registry.cursor() as cr:
                        env = api.Environment(cr, user_id, context)
                        return env['telephony.account'].browse(account_id).get_credit_analytics(
                            'custom', date_from, date_to)

                figures = via_rpc()  # also warms the worker up
                # The bar width is the add-on's rule (tools/wallet_periods.py); the range is half-open.
                sql_params = {'bucket': figures['bucket'], 'step': f"1 {figures['bucket']}", 'tz': TZ,
                              'start': date_from, 'end': date.fromisoformat(date_to) + timedelta(days=1),
                              'purchased': PURCHASED, 'used': USED, 'account': account_id}

                def statement(query):
                    def run():
                        with cnx.cursor() as cr:
                            cr.execute(query, sql_params)
                            return cr.fetchall()
                    return run

                timings = {}
                # Interleaved, so that the machine's load weighs on every measure alike.
                for _round in range(args.repeat):
                    for name, func in (('reference', statement(REFERENCE)), ('per line', statement(PER_LINE)),
                                       ('ORM', via_orm), ('JSON-RPC', via_rpc)):
                        seconds, result = median_seconds(func, 1)
                        timings.setdefault(name, []).append(seconds)
                        exact = True
                        if name == 'reference':
                            rows = result
                        elif name == 'per line':
                            exact = result == rows
                        else:
                            exact = same_figures(result, rows)
                        if not exact:
                            print(f"{label}: {name} does not give the reference's figures", flush=True)
                            ok = False
                medians = {name: statistics.median(values) * 1000 for name, values in timings.items()}
                ratio = medians['JSON-RPC'] / medians['reference']
                ok &= ratio <= 2
                print(f"{label} ({len(figures['series'])} {figures['bucket']} bars): "
                      f"reference {medians['reference']:.1f} ms "
                      f"(runs {min(timings['reference']) * 1000:.1f}–{max(timings['reference']) * 1000:.1f}) | "
                      f"per-line SQL {medians['per line']:.1f} ms | ORM {medians['ORM']:.1f} ms | "
                      f"JSON-RPC {medians['JSON-RPC']:.1f} ms "
                      f"(runs {min(timings['JSON-RPC']) * 1000:.1f}–{max(timings['JSON-RPC']) * 1000:.1f}) | "
                      f"ratio JSON-RPC/reference {ratio:.2f}, ORM/reference "
                      f"{medians['ORM'] / medians['reference']:.2f} (goal ≤ 2)", flush=True)
        # Last: settling changes the ledger's rows, which the analytics above read as inserted.
        ok &= bench_balance(registry, params, cnx, account_id, user_id, args.repeat)
        cnx.close()
    finally:
        drop_ledger(registry, account_id, company_id, user_id)
    print(f"same figures everywhere and every goal met: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
