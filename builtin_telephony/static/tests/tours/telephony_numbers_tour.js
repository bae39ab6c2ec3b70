/** @odoo-module **/
// An administrator's first steps: open Built-in Telephony, buy a toll-free number through the
// wizard (search, pick, summary, confirmation), then delete it again.
import { registry } from "@web/core/registry";
import { openBuiltinTelephony } from "./tour_steps";

registry.category("web_tour.tours").add("builtin_telephony_phone_numbers", {
    url: "/odoo",
    steps: () => [
        ...openBuiltinTelephony("Phone numbers"),
        {
            content: "Buy a number",
            trigger: "button:contains('Buy a number')",
            run: "click",
        },
        {
            content: "Choose toll-free numbers",
            trigger: ".modal .o_field_widget[name=number_type_id] .o_radio_item:contains('Toll-free') input",
            run: "click",
        },
        {
            content: "Toll-free is chosen",
            trigger: ".modal .o_field_widget[name=number_type_id] .o_radio_item:contains('Toll-free') input:checked",
        },
        {
            content: "The US offers no mobile-only numbers",
            trigger: ".modal .o_field_widget[name=number_type_id]:not(:contains('Mobile'))",
        },
        {
            content: "Search",
            trigger: ".modal button:contains('Search numbers')",
            run: "click",
        },
        {
            content: "The numbers offered are listed in international format, with their price",
            trigger: ".modal .o_field_widget[name=line_ids] .o_data_row:eq(1) td:contains('+1 8'):not(:contains('+18'))",
        },
        {
            content: "Choose the second number offered",
            trigger: ".modal .o_field_widget[name=line_ids] .o_data_row:eq(1) button[name=action_choose]",
            run: "click",
        },
        {
            content: "The purchase summary shows the number in international format",
            trigger: ".modal h3:contains('Purchase summary')",
        },
        {
            trigger: ".modal .o_field_widget[name=phone_number_display]:contains('+1 8')",
        },
        {
            trigger: ".modal .o_field_widget[name=monthly_price]:contains('3.00')",
        },
        {
            content: "Continue",
            trigger: ".modal footer button:contains('Continue')",
            run: "click",
        },
        {
            content: "The confirmation names the number in international format",
            trigger: ".modal .alert-warning strong:contains('+1 8')",
        },
        {
            content: "Confirm the purchase",
            trigger: ".modal footer button:contains('Buy phone number')",
            run: "click",
        },
        {
            content: "The number is listed",
            trigger: ".o_field_widget[name=number_ids] .o_data_row:contains('Toll-free')",
        },
        {
            content: "Delete it",
            trigger: ".o_field_widget[name=number_ids] .o_data_row:contains('Toll-free') button[name=action_release]",
            run: "click",
        },
        {
            content: "Confirm the release",
            trigger: ".modal-footer button:contains('Ok')",
            run: "click",
        },
        {
            content: "It is gone",
            trigger: ".o_field_widget[name=number_ids]:not(:has(.o_data_row:contains('Toll-free')))",
        },
    ],
});
