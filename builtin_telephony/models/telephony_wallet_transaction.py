from odoo import fields, models

TRANSACTION_KINDS = [
    ('purchase', "Credit purchase"), ('auto_recharge', "Auto-recharge"),
    ('number', "Phone number"), ('call', "Call"), ('storage', "Storage plan"),
    ('refund', "Refund"), ('adjustment', "Manual adjustment"),
]


class TelephonyWalletTransaction(models.Model):
    """A movement of credits; the account's balance is their sum (SPEC §5)."""
    _name = 'telephony.wallet.transaction'
    _description = "Credit Transaction"
    _order = 'date desc, id desc'

    account_id = fields.Many2one('telephony.account', required=True, readonly=True,
                                 ondelete='cascade', index=True)
    company_id = fields.Many2one(related='account_id.company_id', store=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True, index=True)
    kind = fields.Selection(TRANSACTION_KINDS, required=True, readonly=True)
    credits = fields.Float(digits=(16, 4), required=True, readonly=True,
                           help="Signed: positive in, negative out.")
    reference = fields.Char(required=True, readonly=True,
                            help="Unique per account and kind: a charge or a top-up never "
                                 "happens twice.")
    user_id = fields.Many2one('res.users', readonly=True, default=lambda self: self.env.user)

    _sql_constraints = [
        ('reference_uniq', 'unique(account_id, kind, reference)',
         "This credit movement was already recorded."),
    ]
