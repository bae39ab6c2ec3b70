import functools
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, create_index
from odoo.tools.sql import index_exists

from ..tools import wallet_periods

TRANSACTION_KINDS = [
    ('purchase', "Credit purchase"), ('auto_recharge', "Auto-recharge"),
    ('number', "Phone number"), ('call', "Call"), ('storage', "Storage plan"),
    ('refund', "Refund"), ('adjustment', "Manual adjustment"),
]
DEBIT_KINDS = ('number', 'call', 'storage')
CREDIT_KINDS = ('purchase', 'auto_recharge', 'refund', 'adjustment')
# Kinds counted as credits purchased / used by the analytics; a refund gives back used credits.
PURCHASED_KINDS = ('purchase', 'auto_recharge', 'adjustment')
USED_KINDS = ('number', 'call', 'storage', 'refund')

# The balance of the telephony_account row aliased ``account``: what the hourly settling cron
# moved into ``settled_balance``, plus the ledger lines it has not settled yet, read from the
# partial index ``telephony_wallet_transaction_unsettled_index`` (so its cost follows the lines of
# the last hour, not the size of the ledger). Every balance read uses this expression.
BALANCE_SQL = SQL("""account.settled_balance + COALESCE((
    SELECT SUM(unsettled.credits) FROM telephony_wallet_transaction unsettled
     WHERE unsettled.account_id = account.id AND NOT unsettled.settled), 0)""")


@functools.lru_cache(maxsize=64)
def _ledger_insert_statement(names):
    """The statement of ``_record`` for these columns (besides account and company).

    Parameters: the account id, the values of ``names`` in order. Answers one row:
    ``(id of the new line or NULL, balance with it or NULL, auto-recharge minimum or NULL)``;
    both last are NULL unless auto-recharge watches the account. The balance (``BALANCE_SQL``)
    is read in the same snapshot as the INSERT, which it therefore does not see: the new line's
    credits are added.
    Built once per set of columns: composing it costs more than running it.
    """
    return SQL(
        """
        WITH account AS (
            SELECT id, company_id, auto_recharge_min, settled_balance,
                   auto_recharge AND NOT COALESCE(partner_managed, FALSE) AS watched
              FROM telephony_account WHERE id = %s
        ), line AS (
            INSERT INTO telephony_wallet_transaction (account_id, company_id, %s)
            SELECT account.id, account.company_id, %s FROM account
            ON CONFLICT (account_id, kind, reference) DO NOTHING
            RETURNING id, credits
        )
        SELECT line.id,
               CASE WHEN account.watched THEN COALESCE(line.credits, 0) + %s END,
               CASE WHEN account.watched THEN COALESCE(account.auto_recharge_min, 0) END
          FROM account LEFT JOIN line ON TRUE
        """,
        # Placeholders only: the values are given at each execution; ``.code`` drops these Nones.
        SQL('%s', None), SQL(', ').join(map(SQL.identifier, names)),
        SQL(', ').join(SQL('%s', None) for _name in names), BALANCE_SQL,
    ).code


class TelephonyWalletTransaction(models.Model):
    """A movement of credits; the account's balance is their sum (requirements §5).

    Lines are only ever inserted, by :meth:`_record` (called by ``telephony.account._charge`` and
    ``add_credits``); nobody edits or deletes them, so the balance and the analytics can always be
    recomputed from them. The only write is :meth:`_settle`'s ``settled`` flag, which moves a
    line's credits into ``telephony.account.settled_balance`` without changing the balance.
    """
    _name = 'telephony.wallet.transaction'
    _description = "Credit Transaction"
    _order = 'date desc, id desc'
    _rec_name = 'reference'

    # Not indexed alone: the unique (account_id, kind, reference) and the (account_id, date, …)
    # indexes serve every search by account, and each index slows every charge down.
    account_id = fields.Many2one('telephony.account', required=True, readonly=True,
                                 ondelete='cascade')
    company_id = fields.Many2one(related='account_id.company_id', store=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    kind = fields.Selection(TRANSACTION_KINDS, required=True, readonly=True)
    credits = fields.Float(digits=(16, 4), required=True, readonly=True,
                           help="Signed: positive in, negative out.")
    reference = fields.Char(required=True, readonly=True,
                            help="Unique per account and kind: a charge or a top-up never "
                                 "happens twice.")
    user_id = fields.Many2one('res.users', readonly=True, default=lambda self: self.env.user)
    description = fields.Char(readonly=True)
    call_id = fields.Many2one('telephony.call', readonly=True, ondelete='set null',
                              index='btree_not_null')
    number_id = fields.Many2one('telephony.number', readonly=True, ondelete='set null',
                                index='btree_not_null')
    payment_transaction_id = fields.Many2one('payment.transaction', readonly=True,
                                             ondelete='restrict', index='btree_not_null')
    # Technical: counted in ``account_id.settled_balance`` (see _settle).
    settled = fields.Boolean(default=False, readonly=True, copy=False)
    credits_in = fields.Float("Credits purchased", digits=(16, 4), compute='_compute_credits_split',
                              store=True, aggregator='sum')
    credits_out = fields.Float("Credits used", digits=(16, 4), compute='_compute_credits_split',
                               store=True, aggregator='sum')

    _sql_constraints = [
        ('reference_uniq', 'unique(account_id, kind, reference)',
         "This credit movement was already recorded."),
        # A payment (or a refund) moves credits once, whatever kind it claims.
        ('payment_transaction_uniq', 'unique(payment_transaction_id)',
         "This payment already moved credits."),
    ]

    def init(self):
        # Balance (sum per account) and analytics (sums per account and period) read only this
        # index: index-only scans, whatever the size of the ledger.
        create_index(self.env.cr, 'telephony_wallet_transaction_account_date_index',
                     self._table, ['account_id', 'date', 'kind', 'credits'])
        # The balance reads the lines not settled yet (BALANCE_SQL): the lines of
        # about the last hour, index-only, however long the ledger. create_index knows no INCLUDE.
        if not index_exists(self.env.cr, 'telephony_wallet_transaction_unsettled_index'):
            self.env.cr.execute(SQL(
                "CREATE INDEX telephony_wallet_transaction_unsettled_index ON %s (account_id) "
                "INCLUDE (credits) WHERE NOT settled", SQL.identifier(self._table)))

    @api.depends('credits')
    def _compute_credits_split(self):
        for transaction in self:
            transaction.credits_in = max(transaction.credits, 0.0)
            transaction.credits_out = max(-transaction.credits, 0.0)

    # ------------------------------------------------------------------------------------------
    # The ledger: inserting a line, balances, settlement
    # ------------------------------------------------------------------------------------------

    @api.model
    def _record(self, account, kind, signed_credits, reference, **values):
        """Insert one line of ``account`` unless (account, kind, reference) already exists.

        ``INSERT … ON CONFLICT DO NOTHING`` on the unique index makes a retried callback, a payment
        notified twice or a cron run twice harmless, without a lock on any shared row. When a
        concurrent transaction commits the same reference after ours began, PostgreSQL raises a
        serialization failure and Odoo retries the request, which then finds the existing line.

        The same statement reads what the auto-recharge check needs (the account's settings and,
        when auto-recharge is on, the balance with this line), so that a charge is one round trip
        to the database (bench/bench_wallet.py).

        :return: ``(transaction, created, recharge)``; ``recharge`` is ``(balance, minimum)`` when
            auto-recharge watches this account, else None
        """
        account.ensure_one()
        Transaction = self.sudo()
        # The statement reads the account's columns and sums the ledger in the database.
        account.flush_recordset(['company_id', 'auto_recharge', 'auto_recharge_min',
                                 'partner_managed', 'settled_balance'])
        Transaction.flush_model(['account_id', 'credits'])
        now = fields.Datetime.now()
        columns = {
            'kind': kind,
            'credits': signed_credits,
            'credits_in': max(signed_credits, 0.0),
            'credits_out': max(-signed_credits, 0.0),
            'reference': str(reference),
            'settled': False,  # the column has no default in the database; NULL would not count
            'date': values.pop('date', None) or now,
            'user_id': values.pop('user_id', self.env.uid),
            'create_uid': self.env.uid, 'create_date': now,
            'write_uid': self.env.uid, 'write_date': now,
        }
        for name, value in values.items():
            field = Transaction._fields.get(name)
            if not field or not field.store or field.type in ('one2many', 'many2many') \
                    or name in ('account_id', 'company_id'):
                raise ValueError(f"{name} is not a column of telephony.wallet.transaction")
            columns[name] = value.id if isinstance(value, models.BaseModel) else value
        statement = _ledger_insert_statement(tuple(columns))
        self.env.cr.execute(statement, [account.id, *columns.values()])
        line_id, balance, minimum = self.env.cr.fetchone()
        account.invalidate_recordset(['balance', 'balance_company_currency', 'wallet_transaction_ids'])
        recharge = (balance, minimum) if balance is not None else None
        if line_id:
            return Transaction.browse(line_id), True, recharge
        return Transaction.search([
            ('account_id', '=', account.id), ('kind', '=', kind), ('reference', '=', str(reference)),
        ], limit=1), False, recharge

    @api.model
    def _balances(self, accounts):
        """``{account id: balance}`` read from the database now (not the ORM cache).

        The balance is the sum of the ledger, so that it is exact however many workers charge at
        once (each charge is one INSERT; nothing else is updated). It is read as
        ``settled_balance`` plus the lines not settled yet (``BALANCE_SQL``), so that its cost
        does not grow with the ledger.
        """
        if not accounts.ids:
            return {}
        accounts.flush_recordset(['settled_balance'])
        self.flush_model()
        self.env.cr.execute(self._balances_query(accounts))
        return dict(self.env.cr.fetchall())

    @api.model
    def _balances_query(self, accounts):
        return SQL("SELECT account.id, %s FROM telephony_account account WHERE account.id IN %s",
                   BALANCE_SQL, tuple(accounts.ids))

    @api.model
    def _settle(self, account):
        """Move the lines of ``account`` this transaction sees into its ``settled_balance``; one
        statement.

        The balance does not change, only where its parts are read from. Under REPEATABLE READ
        the lines committed after this transaction began are not seen: they stay unsettled and
        keep counting, and those seen are settled and summed in one snapshot, so nothing is
        counted twice or lost. Charges only INSERT, so they never wait for it; the account row is
        written only when lines were settled. Should a concurrent write of that row (an
        administrator saving the form) make this fail, the transaction is rolled back whole and
        the next run settles.
        """
        account.ensure_one()
        account.flush_recordset(['settled_balance'])
        self.flush_model(['account_id', 'credits', 'settled'])
        self.env.cr.execute(SQL("""
            WITH settled AS (
                UPDATE telephony_wallet_transaction SET settled = TRUE
                 WHERE account_id = %(account)s AND NOT settled
             RETURNING credits
            )
            UPDATE telephony_account
               SET settled_balance = settled_balance + (SELECT SUM(credits) FROM settled)
             WHERE id = %(account)s AND EXISTS (SELECT FROM settled)
        """, account=account.id))
        account.invalidate_recordset(['settled_balance', 'balance', 'balance_company_currency'])
        self.invalidate_model(['settled'])

    # ------------------------------------------------------------------------------------------
    # Credit analytics
    # ------------------------------------------------------------------------------------------

    @api.model
    def _credit_analytics(self, account, period='this_month', date_from=None, date_to=None):
        """Credits of ``account`` purchased and used in a period, with a series for the chart.

        One query over the ledger's ``(account_id, date, kind, credits)`` index, whose cost is
        that of summing the period's lines (bench/bench_analytics.py). Access is the caller's
        business (``telephony.account.get_credit_analytics``).
        """
        account.ensure_one()
        today = fields.Date.context_today(self)
        try:
            start, end = wallet_periods.period_range(
                period, today, fields.Date.to_date(date_from), fields.Date.to_date(date_to))
        except ValueError as error:
            raise UserError(_("Choose a period, or both dates of a custom range.")) from error
        bucket = wallet_periods.bucket_for(start, end)
        tz = self.env.user.tz or 'UTC'
        self.flush_model(['account_id', 'date', 'kind', 'credits'])
        # One range scan of the (account_id, date, kind, credits) index per bar: the bars' bounds
        # are converted from the user's time zone once each, never a ledger line's date; the
        # week and month bars are labelled by their first day, even before the period's start.
        # Every bar of the period is there, empty ones too, so that the axis reads as a calendar.
        self.env.cr.execute(SQL(
            """
            SELECT bar.label::date, totals.purchased, totals.used
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
          ORDER BY 1
            """, bucket=bucket, step=f'1 {bucket}', tz=tz, purchased=PURCHASED_KINDS,
            used=USED_KINDS, account=account.id, start=start, end=end))
        rows = self.env.cr.fetchall()
        return {
            'purchased': sum(row[1] for row in rows),
            'used': sum(row[2] for row in rows),
            'date_from': fields.Date.to_string(start),
            'date_to': fields.Date.to_string(end - timedelta(days=1)),
            'bucket': bucket,
            'series': [{'label': fields.Date.to_string(day), 'purchased': purchased, 'used': used}
                       for day, purchased, used in rows],
        }
