"""Recording retention benchmark (docs/contracts.md, benchmarks): 1,000,000 expired recordings.

The recordings of one company (3-month retention) are a year old, each with its audio as an
``ir.attachment`` in the filestore (one shared file: the rows are what the job deletes); 1 % were
never downloaded, so the provider still has them.

Measured:
- reference: ``DELETE`` of the same rows in one SQL statement, the expired recordings and their
  attachments' rows (rolled back); the recording rows alone are timed and reported too;
- the retention job, ``telephony.recording._cron_apply_retention``, run in a separate process as
  Odoo's cron runs it (called again while it reports work remaining): total time, and the longest
  transaction (time between two commits);
- resumption: the job is killed (SIGKILL) part-way, then run again; every expired recording must
  end deleted with its attachment, none twice;
- the provider deletions of the recordings never downloaded, by the download job, with the
  provider mocked at a fixed 5 ms per deletion, counted apart.

Goal: every one deleted, no transaction longer than 10 s, resumes after a kill, total ≤ 5× the
reference.
"""
import multiprocessing
import os
import signal
import time
import uuid

from benchlib import load_odoo

PENDING_EVERY = 100  # 1 % never downloaded


def create_recordings(registry, count):
    from odoo import SUPERUSER_ID, api
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env['res.company'].create({'name': f'Bench retention {uuid.uuid4().hex[:8]}'})
        env['telephony.account'].create({'company_id': company.id, 'recording_retention': '3m',
                                         'provider': 'sandbox'})
        call = env['telephony.call'].create({'provider_sid': f'CAbench{uuid.uuid4().hex}',
                                             'direction': 'inbound', 'company_id': company.id})
        audio = env['ir.attachment'].create({'name': 'bench.wav', 'raw': b'RIFF' + b'\0' * 16000,
                                             'res_model': 'telephony.call', 'res_id': call.id})
        tag = uuid.uuid4().hex[:6]
        cr.execute("""
            INSERT INTO telephony_recording
                   (call_id, company_id, provider_sid, duration, kind, date, state, provider_deleted,
                    create_uid, create_date, write_uid, write_date)
            SELECT %(call)s, %(company)s, 'REbench' || %(tag)s || i, 60, 'call',
                   now() - INTERVAL '1 year' + i * INTERVAL '1 second',
                   CASE WHEN i %% %(pending)s = 0 THEN 'pending' ELSE 'stored' END,
                   i %% %(pending)s <> 0, 1, now(), 1, now()
              FROM generate_series(1, %(count)s) AS i
        """, {'call': call.id, 'company': company.id, 'tag': tag, 'count': count, 'pending': PENDING_EVERY})
        # The audio of each stored one: an attachment of the recording (sharing one file).
        cr.execute("""
            WITH audio AS (SELECT store_fname, checksum, file_size FROM ir_attachment WHERE id = %(audio)s),
                 added AS (
                INSERT INTO ir_attachment (name, res_model, res_id, company_id, type, store_fname, checksum,
                                           file_size, mimetype, create_uid, create_date, write_uid, write_date)
                SELECT r.provider_sid || '.wav', 'telephony.recording', r.id, %(company)s, 'binary',
                       audio.store_fname, audio.checksum, audio.file_size, 'audio/wav', 1, now(), 1, now()
                  FROM telephony_recording r, audio
                 WHERE r.company_id = %(company)s AND r.state = 'stored'
             RETURNING id, res_id)
            UPDATE telephony_recording r SET attachment_id = added.id FROM added WHERE r.id = added.res_id
        """, {'audio': audio.id, 'company': company.id})
        cr.execute("ANALYZE telephony_recording")
        cr.execute("ANALYZE ir_attachment")
        cr.commit()
        return company.id, call.id


def state_counts(cnx, company_id):
    with cnx.cursor() as cr:
        cr.execute("""SELECT state, COUNT(*), COUNT(attachment_id), COUNT(*) FILTER (WHERE provider_deleted)
                        FROM telephony_recording WHERE company_id = %s GROUP BY state""", [company_id])
        counts = {state: (total, attachments, deleted) for state, total, attachments, deleted in cr.fetchall()}
        cr.execute("SELECT COUNT(*) FROM ir_attachment WHERE res_model = 'telephony.recording' "
                   "AND company_id = %s", [company_id])
        return counts, cr.fetchone()[0]


def run_job(db, queue):
    """Odoo's cron loop in a process of its own: the job is called again while work remains.
    Reports ``(seconds, [transaction seconds], runs)``."""
    import odoo
    from odoo import SUPERUSER_ID, api
    registry = odoo.modules.registry.Registry(db)
    commits, started = [], time.perf_counter()
    with registry.cursor() as cr:
        original_commit, last = cr.commit, [time.perf_counter()]

        def timed_commit():
            original_commit()
            now = time.perf_counter()
            duration, last[0] = now - last[0], now
            commits.append(duration)
            queue.put(('commit', duration))
        cr.commit = timed_commit
        env = api.Environment(cr, SUPERUSER_ID, {})
        cron = env.ref('builtin_telephony.ir_cron_telephony_recording_retention')
        runs = 0
        while True:
            runs += 1
            cron, progress = cron._add_progress()
            cr.commit()
            env['telephony.recording'].with_context(ir_cron_progress_id=progress.id)._cron_apply_retention()
            cr.commit()
            if not progress.remaining:
                break
    queue.put(('done', time.perf_counter() - started, max(commits), runs))


def main():
    def arguments(parser):
        parser.add_argument('--recordings', type=int, default=1_000_000)
        parser.add_argument('--kill-after', type=float, default=None,
                            help="seconds before the first run is killed (default: a third of the reference × 5)")
    args, registry = load_odoo(__doc__, arguments)
    import psycopg2
    import odoo.sql_db
    from odoo import SUPERUSER_ID, api
    from odoo.addons.builtin_telephony.tools.sandbox_gateway import SandboxGateway
    params = odoo.sql_db.connection_info_for(args.db)[1]
    company_id, _call_id = create_recordings(registry, args.recordings)
    cnx = psycopg2.connect(**params)
    cnx.autocommit = True
    with cnx.cursor() as cr:
        cr.execute("VACUUM ANALYZE telephony_recording")
        cr.execute("VACUUM ANALYZE ir_attachment")
    ok = True
    try:
        # Reference: one SQL statement deleting the same rows as the job: the expired recordings
        # and their attachments' rows (rolled back). The recording rows alone, without the
        # attachments every one of which PostgreSQL checks against ir_attachment's nine foreign
        # keys, are timed too and reported, not compared.
        with psycopg2.connect(**params) as ref_cnx, ref_cnx.cursor() as cr:
            start = time.perf_counter()
            cr.execute("""DELETE FROM telephony_recording WHERE company_id = %s
                          AND date < now() - INTERVAL '3 months' AND state IN ('stored', 'pending')""",
                       [company_id])
            recordings_alone = time.perf_counter() - start
            ref_cnx.rollback()
            start = time.perf_counter()
            cr.execute("""
                WITH expired AS (
                    DELETE FROM telephony_recording WHERE company_id = %s
                       AND date < now() - INTERVAL '3 months' AND state IN ('stored', 'pending')
                 RETURNING attachment_id
                ), audio AS (
                    DELETE FROM ir_attachment WHERE id IN (SELECT attachment_id FROM expired)
                 RETURNING id
                )
                SELECT (SELECT COUNT(*) FROM expired), (SELECT COUNT(*) FROM audio)""", [company_id])
            deleted_by_reference, _audio = cr.fetchone()
            reference = time.perf_counter() - start
            ref_cnx.rollback()
        odoo.sql_db.close_all()
        context = multiprocessing.get_context('fork')

        # First run, killed part-way.
        queue = context.Queue()
        first = context.Process(target=run_job, args=(args.db, queue))
        kill_after = args.kill_after if args.kill_after is not None else max(reference * 5 / 3, 1.0)
        start = time.perf_counter()
        first.start()
        first.join(kill_after)
        killed = first.is_alive()
        if killed:
            os.kill(first.pid, signal.SIGKILL)
            first.join()
        first_seconds = time.perf_counter() - start
        partial, _attachments = state_counts(cnx, company_id)
        # Second run, to the end.
        queue = context.Queue()
        second = context.Process(target=run_job, args=(args.db, queue))
        start = time.perf_counter()
        second.start()
        transactions = []
        while True:
            message = queue.get()
            if message[0] == 'done':
                _kind, _seconds, longest, runs = message
                break
            transactions.append(message[1])
        second.join()
        second_seconds = time.perf_counter() - start
        counts, attachments = state_counts(cnx, company_id)

        # The provider's copies of the never-downloaded ones: the download job, provider mocked.
        deletions = []

        def slow_delete(self, sid):
            time.sleep(0.005)
            deletions.append(sid)
        SandboxGateway.delete_recording = slow_delete
        start = time.perf_counter()
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            while True:
                before = len(deletions)
                env['telephony.recording']._cron_download_recordings()
                cr.commit()
                if len(deletions) == before:
                    break
        provider_seconds = time.perf_counter() - start
        final, attachments = state_counts(cnx, company_id)
        total = first_seconds + second_seconds
        everything = final.get('deleted', (0, 0, 0))[0] == deleted_by_reference == args.recordings
        every_attachment = attachments == 0 and final['deleted'][1] == 0
        at_provider = final['deleted'][2] == args.recordings and len(deletions) == len(set(deletions)) \
            == args.recordings // PENDING_EVERY
        ratio = total / reference
        longest_transaction = max([longest, *transactions])
        ok = everything and every_attachment and at_provider and longest_transaction <= 10 and ratio <= 5
        print(f"{args.recordings:,} expired recordings: reference DELETE {reference:.2f} s (the recording rows "
              f"alone: {recordings_alone:.2f} s) | job "
              f"{total:.2f} s ({'killed after ' + format(first_seconds, '.1f') + ' s with ' + str(partial.get('deleted', (0,))[0]) + ' deleted, then resumed' if killed else 'not killed: it finished first'}; "
              f"{runs} cron calls) | ratio {ratio:.2f} (goal ≤ 5) | longest transaction {longest_transaction:.2f} s "
              f"(goal ≤ 10) | all deleted with their attachments: {'yes' if everything and every_attachment else 'NO'} | "
              f"provider deletions (5 ms each, apart): {len(deletions):,} in {provider_seconds:.2f} s, each once: "
              f"{'yes' if at_provider else 'NO'}")
    finally:
        with cnx.cursor() as cr:
            cr.execute("DELETE FROM ir_attachment WHERE company_id = %s OR (res_model = 'telephony.call' AND res_id IN "
                       "(SELECT id FROM telephony_call WHERE company_id = %s))", [company_id, company_id])
            cr.execute("DELETE FROM telephony_recording WHERE company_id = %s", [company_id])
            cr.execute("DELETE FROM telephony_call WHERE company_id = %s", [company_id])
            cr.execute("DELETE FROM telephony_account WHERE company_id = %s", [company_id])
        cnx.close()
    print(f"every goal met: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
