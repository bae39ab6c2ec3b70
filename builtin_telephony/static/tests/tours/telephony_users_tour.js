/** @odoo-module **/
// An administrator sets up their team the way the source documents describe it: a telephony
// group, a telephony user in it who may call out with recording, a number on the block list,
// then the users filtered by group.
import { registry } from "@web/core/registry";
import { openBuiltinTelephony } from "./tour_steps";

registry.category("web_tour.tours").add("builtin_telephony_users", {
    url: "/odoo",
    steps: () => [
        ...openBuiltinTelephony("Telephony groups"),
        {
            content: "Create a telephony group",
            trigger: ".o_field_widget[name=telephony_group_ids] a:contains('Create telephony group')",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".modal .o_field_widget[name=name] input",
            run: "edit Billing experts",
        },
        {
            content: "Describe it",
            trigger: ".modal .o_field_widget[name=description] textarea",
            run: "edit Invoices and refunds",
        },
        {
            content: "Save the group",
            trigger: ".modal .modal-footer button:contains('Save & Close')",
            run: "click",
        },
        {
            content: "The group is listed",
            trigger: ".o_field_widget[name=telephony_group_ids] .o_data_row:contains('Billing experts')",
        },
        {
            content: "Saved with the dialog: the page has nothing left to save",
            trigger: ".o_form_view:not(:has(.o_form_status_indicator_buttons:not(.invisible)))",
        },
        {
            content: "Block a number, typed the way people type numbers",
            trigger: ".o_field_widget[name=blocked_number_ids] a:contains('Block a number')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=blocked_number_ids] .o_data_row .o_field_widget[name=phone_number] input",
            run: "edit +1 (415) 555-0166",
        },
        {
            trigger: ".o_field_widget[name=blocked_number_ids] .o_data_row .o_field_widget[name=note] input",
            run: "edit Robocalls",
        },
        {
            content: "Save the page",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The blocked number reads in international format",
            trigger: ".o_field_widget[name=blocked_number_ids] .o_data_row:contains('+1 415-555-0166')",
        },
        {
            content: "Open the Telephony users tab",
            trigger: ".o_notebook .nav-link:contains('Telephony users')",
            run: "click",
        },
        {
            content: "Add a user",
            trigger: ".o_field_widget[name=telephony_user_ids] a:contains('Add user')",
            run: "click",
        },
        {
            content: "Pick the Odoo user",
            trigger: ".modal .o_field_widget[name=user_id] input",
            run: "edit Nora",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Nora Caller')",
            run: "click",
        },
        {
            content: "Put them in the group",
            trigger: ".modal .o_field_widget[name=group_ids] input",
            run: "edit Billing",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Billing experts')",
            run: "click",
        },
        {
            content: "Record their outgoing calls",
            trigger: ".modal .o_field_widget[name=record_outbound] input",
            run: "click",
        },
        {
            content: "Save the user",
            trigger: ".modal .modal-footer button:contains('Save & Close')",
            run: "click",
        },
        {
            content: "The user is listed with their group",
            trigger: ".o_field_widget[name=telephony_user_ids] .o_data_row:contains('Nora Caller'):contains('Billing experts')",
        },
        {
            content: "Saved with the dialog: the page has nothing left to save",
            trigger: ".o_form_view:not(:has(.o_form_status_indicator_buttons:not(.invisible)))",
        },
        {
            content: "Filter the users by group",
            trigger: "button:contains('Filter by group')",
            run: "click",
        },
        {
            content: "Both users are listed before filtering",
            trigger: ".o_list_renderer:contains('Otto Offline'):contains('Nora Caller')",
        },
        {
            content: "Choose the group in the side panel",
            trigger: ".o_search_panel_filter_value:contains('Billing experts') input",
            run: "click",
        },
        {
            content: "Only the group's members remain",
            trigger: ".o_list_renderer:contains('Nora Caller'):not(:contains('Otto Offline'))",
        },
    ],
});
