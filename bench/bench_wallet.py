"""Wallet benchmark (CONTRACTS §Benchmarks): 2,000 charges from 16 concurrent clients.

Reference, measured in the same run: 16 clients each running plain SQL ``UPDATE … SET balance =
balance - x`` on one balance row, one commit per charge. Goal: the exact final balance, no
duplicate charge, and a charge rate ≥ 0.5× the SQL rate.

Each client is a thread with its own Odoo cursor (a worker's transaction), calling
``telephony.account._charge`` and committing, retried on serialization failures as Odoo
retries a request. Half the clients also replay the charge of the previous client (a retried
Twilio callback): those must change nothing.
"""
import statistics
import threading
import time
import uuid

from benchlib import load_odoo

CLIENTS = 16
CHARGES = 2000
CREDITS = 0.0123


def run_clients(registry, work):
    """``work(client_index, cursor)`` in ``CLIENTS`` threads at once; returns the wall time."""
    barrier = threading.Barrier(CLIENTS + 1)
    failures = []

    def client(index):
        try:
            with registry.cursor() as cr:
                barrier.wait()
                work(index, cr)
        except Exception as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise failures[0]
    return elapsed


def sql_reference(registry):
    with registry.cursor() as cr:
        cr.execute("CREATE TABLE IF NOT EXISTS bench_balance (id int PRIMARY KEY, balance numeric)")
        cr.execute("INSERT INTO bench_balance VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET balance = 0")
        cr.commit()

    def work(index, cr):
        # A plain connection's behaviour: each UPDATE its own short READ COMMITTED transaction.
        cr._cnx.set_isolation_level(1)
        for _step in range(CHARGES // CLIENTS):
            cr.execute("UPDATE bench_balance SET balance = balance - %s WHERE id = 1", [CREDITS])
            cr._cnx.commit()

    elapsed = run_clients(registry, work)
    with registry.cursor() as cr:
        cr.execute("SELECT balance FROM bench_balance WHERE id = 1")
        balance = float(cr.fetchone()[0])
        cr.execute("DROP TABLE bench_balance")
        cr.commit()
    return elapsed, balance


def wallet(registry):
    from odoo import SUPERUSER_ID, api
    from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env['res.company'].create({'name': f'Bench wallet {uuid.uuid4().hex[:8]}'})
        account = env['telephony.account'].create({'company_id': company.id})
        account_id, company_id = account.id, company.id
        cr.commit()
    run = uuid.uuid4().hex[:6]
    retries = [0]

    def work(index, cr):
        env = api.Environment(cr, SUPERUSER_ID, {})
        account = env['telephony.account'].browse(account_id)
        for step in range(CHARGES // CLIENTS):
            references = [f'{run}-{index}-{step}']
            if index % 2:  # a retried callback of the neighbour's previous charge
                references.append(f'{run}-{index - 1}-{step}')
            for reference in references:
                for _attempt in range(20):
                    try:
                        account._charge('call', CREDITS, reference)
                        cr.commit()
                        break
                    except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                        cr.rollback()
                        env.invalidate_all()
                        retries[0] += 1
                        time.sleep(0.001)

    elapsed = run_clients(registry, work)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        balance = env['telephony.account'].browse(account_id).balance
        cr.execute("SELECT count(*), count(DISTINCT reference) FROM telephony_wallet_transaction WHERE account_id = %s",
                   [account_id])
        lines, distinct = cr.fetchone()
        cr.execute("DELETE FROM telephony_wallet_transaction WHERE account_id = %s", [account_id])
        env['telephony.account'].browse(account_id).unlink()
        company = env['res.company'].browse(company_id)
        partner = company.partner_id
        company.unlink()
        partner.unlink()
        cr.commit()
    return elapsed, balance, lines, distinct, retries[0]


def main():
    args, registry = load_odoo(__doc__)
    expected = round(-CHARGES * CREDITS, 6)
    sql_rates, wallet_rates, ok = [], [], True
    for _run in range(args.repeat):
        sql_elapsed, sql_balance = sql_reference(registry)
        elapsed, balance, lines, distinct, retries = wallet(registry)
        sql_rates.append(CHARGES / sql_elapsed)
        wallet_rates.append(CHARGES / elapsed)
        exact = abs(balance - expected) < 1e-6 and lines == CHARGES and distinct == CHARGES
        ok = ok and exact and abs(sql_balance - expected) < 1e-6
        print(f"run: SQL {CHARGES / sql_elapsed:8.0f} charges/s | wallet {CHARGES / elapsed:8.0f} charges/s "
              f"(+{CHARGES // 2} replayed) | balance {balance:.4f} (expected {expected:.4f}) | "
              f"lines {lines}, distinct {distinct} | serialization retries {retries}")
    sql_rate, wallet_rate = statistics.median(sql_rates), statistics.median(wallet_rates)
    ratio = wallet_rate / sql_rate
    print(f"median: SQL UPDATE {sql_rate:.0f} charges/s, wallet {wallet_rate:.0f} charges/s, "
          f"ratio {ratio:.2f} (goal ≥ 0.5); exact balance and 0 duplicates: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
