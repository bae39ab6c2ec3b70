/** @odoo-module **/
import { registry } from "@web/core/registry";
import { formatFloat } from "@web/views/fields/formatters";
import { FloatField, floatField } from "@web/views/fields/float/float_field";

/**
 * Credits as a person reads them (I7): cents for balances, purchases and every other movement;
 * the rate's precision (4 decimals) only for a call's charge, priced per minute at fractions of
 * a cent. (Read-only: ledger lines are never edited.)
 */
export class TelephonyCreditsField extends FloatField {
    get formattedValue() {
        const digits = this.props.record.data.kind === "call" ? [16, 4] : [16, 2];
        return formatFloat(this.value, { digits });
    }
}

registry.category("fields").add("telephony_credits", {
    ...floatField,
    component: TelephonyCreditsField,
});
