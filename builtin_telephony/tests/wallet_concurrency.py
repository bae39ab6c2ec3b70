"""Run wallet operations from several real transactions at once, as several Odoo workers do.

A ``TransactionCase`` sees only its own uncommitted cursor, so these helpers create (and drop)
their own committed company and account, and give every thread its own registry cursor.
"""
import contextlib
import functools
import threading
import time
import uuid

from psycopg2 import errors

from odoo import api
from odoo import SUPERUSER_ID

RETRIED = (errors.SerializationFailure, errors.DeadlockDetected, errors.LockNotAvailable)


def run_in_new_transaction(registry, func, tries=10):
    """``func(env)`` in a fresh transaction, committed; retried on serialization failures like an
    Odoo request (``odoo.service.model.retrying``), with shorter waits."""
    for attempt in range(tries):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            try:
                result = func(env)
                cr.commit()
                return result
            except RETRIED:
                cr.rollback()
                if attempt == tries - 1:
                    raise
        time.sleep(0.01 * (attempt + 1))


def run_concurrently(registry, funcs):
    """Start every ``func(env)`` in its own thread and transaction at the same moment.

    :return: the results in the order of ``funcs``; the first exception is re-raised
    """
    return run_in_threads([functools.partial(run_in_new_transaction, registry, func) for func in funcs])


def run_in_threads(funcs):
    """Start every ``func()`` in its own thread at the same moment (each opens its transactions).

    :return: the results in the order of ``funcs``; the first exception is re-raised
    """
    barrier = threading.Barrier(len(funcs))
    results, failures = [None] * len(funcs), []

    def worker(index, func):
        try:
            barrier.wait()
            results[index] = func()
        except Exception as error:  # reported to the test below
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(i, func)) for i, func in enumerate(funcs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if failures:
        raise failures[0]
    return results


@contextlib.contextmanager
def committed_account(registry, **values):
    """A committed company with its telephony account; everything is deleted on exit.

    :yield: the account id
    """
    def create(env):
        company = env['res.company'].create({'name': f'Concurrent Wallet Test Co {uuid.uuid4().hex[:8]}',
                                             'currency_id': env.ref('base.USD').id})
        account = env['telephony.account'].create(dict(values, company_id=company.id, provider='sandbox'))
        return company.id, account.id

    company_id, account_id = run_in_new_transaction(registry, create)
    try:
        yield account_id
    finally:
        def drop(env):
            # The ledger is never unlinked through the ORM; payments may not vanish under it.
            env.cr.execute("DELETE FROM telephony_wallet_transaction WHERE account_id = %s", [account_id])
            env['payment.transaction'].search([('telephony_account_id', '=', account_id)]).unlink()
            company_partner = env['res.company'].browse(company_id).partner_id
            env['payment.token'].with_context(active_test=False).search(
                [('partner_id', '=', company_partner.id)]).unlink()
            env['telephony.account'].browse(account_id).unlink()
            company = env['res.company'].browse(company_id)
            partner = company.partner_id
            company.unlink()
            partner.unlink()
        run_in_new_transaction(registry, drop)
