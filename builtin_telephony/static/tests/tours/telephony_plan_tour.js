/** @odoo-module **/
// An administrator on the Plan details tab for the first time: buys credits with the company's
// saved card, sees them in the analytics, turns on auto-recharge and opens the purchase history.
import { registry } from "@web/core/registry";
import { openBuiltinTelephony } from "./tour_steps";

registry.category("web_tour.tours").add("builtin_telephony_plan_details", {
    url: "/odoo",
    steps: () => [
        ...openBuiltinTelephony(),
        {
            content: "Plan details is the first tab, and it is open",
            trigger: ".o_notebook .nav-item:first-child .nav-link.active:contains('Plan details')",
        },
        {
            content: "The wallet is empty",
            trigger: ".o_telephony_available_credits .o_field_widget[name=balance]:contains('0.00')",
        },
        {
            content: "Buy credits",
            trigger: "button:contains('Buy credits')",
            run: "click",
        },
        {
            content: "Enter 25 credits",
            trigger: ".modal .o_field_widget[name=credits] input",
            run: "edit 25 && click .modal-title",
        },
        {
            content: "The price is calculated in the company currency",
            trigger: ".modal .o_field_widget[name=price]:contains('25.00')",
        },
        {
            content: "Choose the company's saved card",
            trigger: ".modal .o_field_widget[name=token_choice] select",
            run: "selectByLabel 4242",
        },
        {
            content: "Pay",
            trigger: ".modal button[name=action_pay]",
            run: "click",
        },
        {
            content: "The credits arrived",
            trigger: ".o_notification:contains('25.00 credits were added')",
        },
        {
            content: "The balance shows them",
            trigger: ".o_telephony_available_credits .o_field_widget[name=balance]:contains('25.00')",
        },
        {
            content: "The analytics of this month show the purchase",
            trigger: ".o_telephony_credit_analytics .o_telephony_purchased:contains('25.00')",
        },
        {
            content: "Look at last month",
            trigger: ".o_telephony_credit_analytics select.o_telephony_period",
            run: "select last_month",
        },
        {
            content: "Nothing was purchased last month",
            trigger: ".o_telephony_credit_analytics .o_telephony_purchased:contains('0.00')",
        },
        {
            content: "Turn on auto-recharge",
            trigger: ".o_field_widget[name=auto_recharge] input",
            run: "click",
        },
        {
            content: "Recharge below 5 credits",
            trigger: ".o_field_widget[name=auto_recharge_min] input",
            run: "edit 5 && click .o_telephony_available_credits",
        },
        {
            content: "Add 30 credits",
            trigger: ".o_field_widget[name=auto_recharge_amount] input",
            run: "edit 30 && click .o_telephony_available_credits",
        },
        {
            content: "Pay the recharges with the company's saved card",
            trigger: ".o_field_widget[name=auto_recharge_token_choice] select",
            run: "selectByLabel 4242",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_saved",
        },
        {
            content: "Open the credit purchase history",
            trigger: "button[name=action_view_purchase_history]",
            run: "click",
        },
        {
            content: "The purchase is listed with its buyer and credits",
            trigger: ".modal .o_list_table tr.o_data_row:contains('Administrator'):contains('25.00')",
        },
        {
            content: "Close the history",
            trigger: ".modal .btn-close",
            run: "click",
        },
    ],
});
