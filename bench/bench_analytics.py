"""Credit analytics benchmark (CONTRACTS §Benchmarks): 1,000,000 ledger lines of one account.

Reference, measured in the same run: one SQL aggregate of credits purchased and used over the
same lines (``SELECT SUM … FILTER …``). Goal: ``get_credit_analytics`` (the Plan details figures
and chart series, plus the balance) ≤ 2× the reference, for a month and for a whole year.
The recording storage usage is measured by the recordings issue's benchmark.
"""
import uuid

from benchlib import load_odoo, median_seconds

LINES = 1_000_000


def main():
    args, registry = load_odoo(__doc__)
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env['res.company'].create({'name': f'Bench analytics {uuid.uuid4().hex[:8]}'})
        account = env['telephony.account'].create({'company_id': company.id})
        # 1,000,000 lines over 2024-2025: calls mostly, a purchase every 1,000 lines.
        cr.execute("""
            INSERT INTO telephony_wallet_transaction
                   (account_id, company_id, kind, credits, credits_in, credits_out, reference, date,
                    user_id, create_uid, create_date, write_uid, write_date)
            SELECT %(account)s, %(company)s,
                   CASE WHEN i %% 1000 = 0 THEN 'purchase' WHEN i %% 97 = 0 THEN 'number' ELSE 'call' END,
                   CASE WHEN i %% 1000 = 0 THEN 50 ELSE -0.02 END,
                   CASE WHEN i %% 1000 = 0 THEN 50 ELSE 0 END,
                   CASE WHEN i %% 1000 = 0 THEN 0 ELSE 0.02 END,
                   'bench-' || i, TIMESTAMP '2024-01-01' + (i * INTERVAL '63 seconds'),
                   1, 1, now(), 1, now()
              FROM generate_series(1, %(lines)s) AS i
        """, {'account': account.id, 'company': company.id, 'lines': LINES})
        cr.execute("ANALYZE telephony_wallet_transaction")
        cr.commit()
        account_id, company_id = account.id, company.id

    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {'tz': 'UTC'})
            account = env['telephony.account'].browse(account_id)
            for label, start, end in [('one month', '2025-03-01', '2025-03-31'),
                                      ('one year', '2024-01-01', '2024-12-31')]:
                def reference():
                    cr.execute("""
                        SELECT SUM(credits) FILTER (WHERE kind IN ('purchase', 'auto_recharge', 'adjustment')),
                               -SUM(credits) FILTER (WHERE kind IN ('number', 'call', 'storage', 'refund'))
                          FROM telephony_wallet_transaction
                         WHERE account_id = %s AND date >= %s AND date < %s::date + 1
                    """, [account_id, start, end])
                    return cr.fetchone()

                def analytics():
                    env.invalidate_all()
                    return account.get_credit_analytics('custom', start, end)

                ref_time, (purchased, used) = median_seconds(reference, args.repeat)
                odoo_time, figures = median_seconds(analytics, args.repeat)
                assert abs(figures['purchased'] - float(purchased)) < 1e-6, (figures['purchased'], purchased)
                assert abs(figures['used'] - float(used)) < 1e-3, (figures['used'], used)
                print(f"{label}: SQL aggregate {ref_time * 1000:.1f} ms | get_credit_analytics "
                      f"{odoo_time * 1000:.1f} ms ({len(figures['series'])} bars) | "
                      f"ratio {odoo_time / ref_time:.2f} (goal ≤ 2)")
    finally:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute("DELETE FROM telephony_wallet_transaction WHERE account_id = %s", [account_id])
            env['telephony.account'].browse(account_id).unlink()
            company = env['res.company'].browse(company_id)
            partner = company.partner_id
            company.unlink()
            partner.unlink()
            cr.commit()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
