"""Wallet benchmark (docs/contracts.md, Benchmarks): 2,000 charges from 16 concurrent clients.

The references, measured in the same run, all ``UPDATE bench_balance SET balance = balance - x
WHERE id = 1`` on one balance row, one commit per charge, from 16 client processes:

- (a) ``SQL``: through psycopg2 directly (reported: no Odoo path can approach it);
- (b) ``cursor``: through a fresh Odoo cursor per charge, in-process (``registry.cursor()``,
  committed when the block ends), what ``_charge`` is compared with;
- (b) ``route``: through a minimal Odoo POST route (``/bench/reference/charge`` of
  bench/addons/bench_reference, served with ``--load``) on the same ``--workers=2`` server,
  what the HTTP figure is compared with.

Two figures of the add-on, both from 16 client processes (never threads: the clients must not
share one interpreter lock):

- ``_charge``: every charge is ``telephony.account._charge`` in a fresh environment with its own
  cursor and commit, as one request would do it, retried on serialization failures;
- ``HTTP``: every charge is a signed Twilio status callback (``CallStatus=completed``,
  ``CallDuration``) to ``/telephony/twilio/status`` of an Odoo started with ``--workers=2``,
  which rates the call and charges it (``telephony.call._charge``): the route through
  which calls are charged in production.

In both, the odd clients also replay the charge their neighbour made 4 steps earlier (a
retried callback): about 1,000 more requests that must change nothing. The rate counts the
2,000 distinct charges only. Goals: the exact final balance, no duplicate charge, ``_charge``
≥ 0.8× the cursor reference and HTTP ≥ 0.8× the route reference.
"""
import statistics
import time
import uuid
from pathlib import Path

from benchlib import OdooServer, load_odoo, run_processes

BENCH_ADDONS = Path(__file__).resolve().parent / 'addons'

CLIENTS = 16
CHARGES = 2000
PER_CLIENT = CHARGES // CLIENTS
CREDITS = 0.0123
REPLAY_LAG = 4
OUR_NUMBER = '+14155550142'
CALL_DURATION = 75  # seconds: 2 started minutes


def references(run, index):
    """The charges client ``index`` sends, in order: its own, and its odd replays."""
    for step in range(PER_CLIENT):
        yield f'{run}-{index}-{step}'
        if index % 2 and step >= REPLAY_LAG:
            yield f'{run}-{index - 1}-{step - REPLAY_LAG}'


def connection_params(db):
    import odoo.sql_db
    return odoo.sql_db.connection_info_for(db)[1]


class BalanceRow:
    """The references' balance row (``bench_balance``), made at 0 and dropped after each use."""

    def __init__(self, registry):
        import psycopg2
        self.params = connection_params(registry.db_name)
        with psycopg2.connect(**self.params) as cnx, cnx.cursor() as cr:
            cr.execute("CREATE TABLE IF NOT EXISTS bench_balance (id int PRIMARY KEY, balance numeric)")
            cr.execute("INSERT INTO bench_balance VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET balance = 0")
        cnx.close()

    def drop(self):
        """The final balance; the table is dropped."""
        import psycopg2
        cnx = psycopg2.connect(**self.params)
        with cnx, cnx.cursor() as cr:
            cr.execute("SELECT balance FROM bench_balance WHERE id = 1")
            balance = float(cr.fetchone()[0])
            cr.execute("DROP TABLE bench_balance")
        cnx.close()
        return balance


UPDATE = "UPDATE bench_balance SET balance = balance - %s WHERE id = 1"


def sql_reference(registry):
    """(a) the UPDATE through psycopg2, one commit per charge."""
    import psycopg2
    row = BalanceRow(registry)

    def work(_index):
        cnx = psycopg2.connect(**row.params)
        cr = cnx.cursor()
        for _step in range(PER_CLIENT):
            cr.execute(UPDATE, [CREDITS])
            cnx.commit()
        cnx.close()

    elapsed, _results = run_processes(CLIENTS, work)
    return elapsed, row.drop()


def cursor_reference(registry):
    """(b) the UPDATE through a fresh Odoo cursor per charge, committed as a request's.

    Odoo's cursors are REPEATABLE READ: concurrent UPDATEs of the one row fail with serialization
    errors, retried here as Odoo retries a request (and as ``orm_charges`` retries)."""
    from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
    row = BalanceRow(registry)

    def work(_index):
        retries = 0
        for _step in range(PER_CLIENT):
            for attempt in range(50):
                try:
                    with registry.cursor() as cr:  # commits when the block ends
                        cr.execute(UPDATE, [CREDITS])
                    break
                except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                    retries += 1
                    time.sleep(0.001 * (attempt + 1))
            else:
                raise RuntimeError("the reference UPDATE failed 50 times")
        return retries

    elapsed, retries = run_processes(CLIENTS, work)
    print(f"  (cursor reference: {sum(retries)} serialization retries)", flush=True)
    return elapsed, row.drop()


def route_reference(registry, server):
    """(b) the UPDATE through a minimal Odoo POST route of the ``--workers=2`` server."""
    import requests
    row = BalanceRow(registry)

    def work(_index):
        session = requests.Session()
        return sum(session.post(server.url + '/bench/reference/charge', data={'credits': CREDITS},
                                timeout=120).status_code != 204 for _step in range(PER_CLIENT))

    elapsed, errors = run_processes(CLIENTS, work)
    return elapsed, row.drop(), sum(errors)


class BenchAccount:
    """A company with its telephony account, made and dropped around every measure."""

    def __init__(self, registry, calls=(), webhook_base_url=None):
        from odoo import SUPERUSER_ID, api
        self.registry = registry
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env['res.company'].create({'name': f'Bench wallet {uuid.uuid4().hex[:8]}'})
            account = env['telephony.account'].create({
                'company_id': company.id, 'webhook_base_url': webhook_base_url,
                # The charge path checks the recharge threshold: measure it switched on.
                'auto_recharge': True, 'auto_recharge_min': -1e9})
            self.account_id, self.company_id = account.id, company.id
            self.account_sid, self.auth_token = account.twilio_account_sid, account.twilio_auth_token
            self.status_url = account.status_webhook_url
            if calls:
                number = env['telephony.number'].create({
                    'account_id': account.id, 'phone_number': OUR_NUMBER,
                    'country_id': env.ref('base.us').id, 'number_type': 'local',
                    'provider_sid': 'PN' + uuid.uuid4().hex})
                env['telephony.call'].create([{
                    'provider_sid': sid, 'direction': 'inbound', 'status': 'in_progress',
                    'from_number': '+14155550999', 'to_number': OUR_NUMBER, 'number_id': number.id,
                    'company_id': company.id, 'answer_date': '2026-01-01 10:00:00',
                } for sid in calls])
                from odoo.addons.builtin_telephony.tools import rating
                self.call_credits = rating.call_credits(
                    env['telephony.rate']._price_per_minute('inbound', OUR_NUMBER, 'local'), CALL_DURATION)
            cr.commit()

    def outcome(self):
        """``(balance, lines, distinct references)`` of the account's ledger."""
        from odoo import SUPERUSER_ID, api
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            balance = env['telephony.account'].browse(self.account_id).balance
            cr.execute("SELECT count(*), count(DISTINCT reference) FROM telephony_wallet_transaction "
                       "WHERE account_id = %s", [self.account_id])
            return (balance, *cr.fetchone())

    def drop(self):
        from odoo import SUPERUSER_ID, api
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env['telephony.call'].search([('company_id', '=', self.company_id)]).unlink()
            account = env['telephony.account'].browse(self.account_id)
            account.number_ids.unlink()
            account.unlink()  # its ledger goes with it (ondelete cascade)
            company = env['res.company'].browse(self.company_id)
            partner = company.partner_id
            company.unlink()
            partner.unlink()


def orm_charges(registry):
    """``_charge`` in a fresh environment, cursor and commit per charge, as a request."""
    from odoo import SUPERUSER_ID, api
    from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
    bench, run = BenchAccount(registry), uuid.uuid4().hex[:6]

    def work(index):
        retries = 0
        for reference in references(run, index):
            for attempt in range(20):
                try:
                    with registry.cursor() as cr:  # commits when the block ends
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        env['telephony.account'].browse(bench.account_id)._charge('call', CREDITS, reference)
                    break
                except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                    retries += 1
                    time.sleep(0.001 * (attempt + 1))
            else:
                raise RuntimeError(f"charge {reference} failed 20 times")
        return retries

    try:
        elapsed, retries = run_processes(CLIENTS, work)
        return elapsed, CREDITS, *bench.outcome(), sum(retries), 0
    finally:
        bench.drop()


def http_charges(registry, server):
    """Signed status callbacks of finished calls, answered by Odoo's ``--workers=2``."""
    import requests
    from twilio.request_validator import RequestValidator
    run = uuid.uuid4().hex[:6]
    sids = {reference: 'CA' + uuid.uuid5(uuid.NAMESPACE_OID, reference).hex
            for index in range(CLIENTS) for reference in references(run, index)}
    bench = BenchAccount(registry, calls=sorted(set(sids.values())), webhook_base_url=server.url)
    validator = RequestValidator(bench.auth_token)

    def work(index):
        session, errors = requests.Session(), 0
        for reference in references(run, index):
            params = {'AccountSid': bench.account_sid, 'CallSid': sids[reference],
                      'CallStatus': 'completed', 'CallDuration': str(CALL_DURATION),
                      'From': '+14155550999', 'To': OUR_NUMBER, 'Direction': 'inbound',
                      'ApiVersion': '2010-04-01'}
            response = session.post(
                server.url + '/telephony/twilio/status', data=params, timeout=120,
                headers={'X-Twilio-Signature': validator.compute_signature(bench.status_url, params)})
            errors += response.status_code != 204
        return errors

    try:
        elapsed, errors = run_processes(CLIENTS, work)
        return elapsed, bench.call_credits, *bench.outcome(), 0, sum(errors)
    finally:
        bench.drop()


def empty_requests(server):
    """The ceiling of any route: ``GET /web/health`` (no database, no work) from the same clients."""
    import requests

    def work(_index):
        session = requests.Session()
        return sum(not session.get(server.url + '/web/health', timeout=120).ok for _step in range(PER_CLIENT))

    elapsed, errors = run_processes(CLIENTS, work)
    return elapsed, sum(errors)


def spread(values):
    return f"{min(values):,.0f}–{max(values):,.0f}"


def main():
    args, registry = load_odoo(__doc__, lambda parser: parser.set_defaults(repeat=3))
    labels = ('SQL', 'cursor', 'route', '_charge', 'HTTP', '/web/health')
    figures = {label: [] for label in labels}
    exact = True
    with OdooServer(args.db, addons=[BENCH_ADDONS], load=['bench_reference']) as server:
        for _run in range(args.repeat):
            line = "run:"
            for label, measure in (('SQL', sql_reference), ('cursor', cursor_reference),
                                   ('route', lambda r: route_reference(r, server))):
                elapsed, balance, *errors = measure(registry)
                exact &= abs(balance + CHARGES * CREDITS) < 1e-6 and not sum(errors)
                figures[label].append(CHARGES / elapsed)
                line += f" {label} UPDATE {figures[label][-1]:6,.0f}/s |"
            for label, measure in (('_charge', orm_charges), ('HTTP', lambda r: http_charges(r, server))):
                elapsed, credits, balance, lines, distinct, retries, errors = measure(registry)
                expected = round(-CHARGES * credits, 4)
                ok = abs(balance - expected) < 1e-6 and lines == distinct == CHARGES and not errors
                exact &= ok
                figures[label].append(CHARGES / elapsed)
                line += (f" {label} {figures[label][-1]:6,.0f}/s (balance {balance:.4f} for {expected:.4f}, "
                         f"{lines} lines, {distinct} references, {retries} retries, {errors} errors) |")
            elapsed, errors = empty_requests(server)
            figures['/web/health'].append(CHARGES / elapsed)
            line += f" GET /web/health {figures['/web/health'][-1]:6,.0f}/s ({errors} errors)"
            print(line, flush=True)
    for label in labels:
        print(f"median {label}: {statistics.median(figures[label]):,.0f}/s (runs {spread(figures[label])})")
    goals_met = True
    # Each run's ratio to the reference of the same run: the machine's load weighs on both.
    for label, reference, goal in (('_charge', 'cursor', 0.8), ('HTTP', 'route', 0.8),
                                   ('_charge', 'SQL', None), ('HTTP', 'SQL', None),
                                   ('/web/health', 'route', None)):
        ratios = [rate / ref for rate, ref in zip(figures[label], figures[reference])]
        ratio = statistics.median(ratios)
        verdict = ''
        if goal:
            goals_met &= ratio >= goal
            verdict = f" (goal ≥ {goal}: {'met' if ratio >= goal else 'NOT met'})"
        print(f"ratio {label} / {reference} UPDATE: {ratio:.3f} (runs {min(ratios):.3f}–{max(ratios):.3f})"
              + verdict)
    print(f"exact balances and 0 duplicates in every run: {'yes' if exact else 'NO'}")
    return 0 if exact and goals_met else 1


if __name__ == '__main__':
    raise SystemExit(main())
