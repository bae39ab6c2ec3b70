from odoo import api, fields, models
from odoo.tools import SQL

# The scope of the company's own daily limit; a telephony user's is ``user-<telephony.user id>``.
COMPANY_SCOPE = 'company'


class TelephonySpendDay(models.Model):
    """One day of outgoing calls of a company, or of one telephony user, under a daily spending
    limit (B5). What was spent is not kept here: it is the calls' charges and reservations
    (``telephony.account._outbound_spent``). The row is what makes a limit exact and its notices
    single:

    * every outgoing call that a limit applies to updates the row of that limit for the day
      before it reads the day's spending, so two calls placed at the same moment cannot both
      spend the last credits under the limit: under Odoo's repeatable-read transactions the
      second one fails to serialise and its request is retried, seeing the first's reservation;
    * ``notified_level`` (80, then 100) is raised by one conditional update: administrators are
      told once per level and day, whatever the number of workers.
    """
    _name = 'telephony.spend.day'
    _description = "Daily spending of outgoing calls"
    _order = 'day desc, id desc'

    account_id = fields.Many2one('telephony.account', required=True, ondelete='cascade', index=True)
    day = fields.Date(required=True, help="In the company's time zone.")
    scope = fields.Char(required=True, help="'company', or 'user-<telephony.user id>'.")
    reservations = fields.Integer(help="Outgoing calls let through under this limit that day.")
    notified_level = fields.Integer(help="The last notice sent to the administrators that day "
                                         "(80 or 100 %).")

    _sql_constraints = [
        ('account_day_scope_uniq', 'unique(account_id, day, scope)',
         "One row per account, day and limit."),
    ]

    @api.model
    def _serialise(self, account, day, scope):
        """Update the row of ``scope`` for ``day`` (created when missing) in this transaction: a
        concurrent transaction doing the same waits for this one, then fails to serialise and is
        retried with a snapshot that sees what this one reserved."""
        self.env.cr.execute(SQL(
            """INSERT INTO telephony_spend_day
                      (account_id, day, scope, reservations, notified_level, create_uid, write_uid,
                       create_date, write_date)
               VALUES (%(account)s, %(day)s, %(scope)s, 1, 0, %(uid)s, %(uid)s,
                       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
               ON CONFLICT (account_id, day, scope) DO UPDATE
                  SET reservations = telephony_spend_day.reservations + 1,
                      write_date = EXCLUDED.write_date""",
            account=account.id, day=day, scope=scope, uid=self.env.uid))

    @api.model
    def _raise_level(self, account, day, scope, level):
        """Record that the administrators are told about ``level`` % of ``scope`` on ``day``:
        True the first time (tell them now), False when they already were (or of more)."""
        self.env.cr.execute(SQL(
            """INSERT INTO telephony_spend_day
                      (account_id, day, scope, reservations, notified_level, create_uid, write_uid,
                       create_date, write_date)
               VALUES (%(account)s, %(day)s, %(scope)s, 0, %(level)s, %(uid)s, %(uid)s,
                       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
               ON CONFLICT (account_id, day, scope) DO UPDATE
                  SET notified_level = EXCLUDED.notified_level
                WHERE telephony_spend_day.notified_level < EXCLUDED.notified_level
            RETURNING id""",
            account=account.id, day=day, scope=scope, level=level, uid=self.env.uid))
        return bool(self.env.cr.fetchone())
