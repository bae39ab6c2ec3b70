from odoo import api, fields, models
from odoo.tools import SQL, create_index
from odoo.tools.sql import drop_index, index_exists, make_index_name

TRANSACTION_KINDS = [
    ('purchase', "Credit purchase"), ('auto_recharge', "Auto-recharge"),
    ('number', "Phone number"), ('call', "Call"), ('storage', "Storage plan"),
    ('refund', "Refund"), ('adjustment', "Manual adjustment"),
]


class TelephonyWalletTransaction(models.Model):
    """A movement of credits; the account's balance is their sum (SPEC §5).

    Lines are only ever inserted, by ``telephony.account._charge`` and ``add_credits``; nobody
    edits or deletes them, so the balance and the analytics can always be recomputed from them.
    The only write is the settling cron's ``settled`` flag, which moves a line's credits into
    ``telephony.account.settled_balance`` without changing the balance.
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
    # Technical: counted in ``account_id.settled_balance`` (telephony.account._settle_balance).
    settled = fields.Boolean(default=False, readonly=True, copy=False)
    credits_in = fields.Float("Credits purchased", digits=(16, 4), compute='_compute_credits_split',
                              store=True, aggregator='sum')
    credits_out = fields.Float("Credits used", digits=(16, 4), compute='_compute_credits_split',
                               store=True, aggregator='sum')

    _sql_constraints = [
        ('reference_uniq', 'unique(account_id, kind, reference)',
         "This credit movement was already recorded."),
    ]

    def init(self):
        # Balance (sum per account) and analytics (sums per account and period) read only this
        # index: index-only scans, whatever the size of the ledger.
        create_index(self.env.cr, 'telephony_wallet_transaction_account_date_index',
                     self._table, ['account_id', 'date', 'kind', 'credits'])
        # The balance reads the lines not settled yet (telephony.account.BALANCE_SQL): the lines of
        # about the last hour, index-only, however long the ledger. create_index knows no INCLUDE.
        if not index_exists(self.env.cr, 'telephony_wallet_transaction_unsettled_index'):
            self.env.cr.execute(SQL(
                "CREATE INDEX telephony_wallet_transaction_unsettled_index ON %s (account_id) "
                "INCLUDE (credits) WHERE NOT settled", SQL.identifier(self._table)))
        # Indexes of earlier versions, redundant with it: a database being updated loses them.
        for column in ('account_id', 'date'):
            drop_index(self.env.cr, make_index_name(self._table, column), self._table)

    @api.depends('credits')
    def _compute_credits_split(self):
        for transaction in self:
            transaction.credits_in = max(transaction.credits, 0.0)
            transaction.credits_out = max(-transaction.credits, 0.0)
