/** @odoo-module **/
// An administrator reviews the calls: filters the Call history tab by type, owner and period,
// downloads the filtered list, plays a recording, then reports on the calls per owner.
import { registry } from "@web/core/registry";
import { openBuiltinTelephony } from "./tour_steps";

function waitForAudio(audio) {
    if (audio.readyState >= 1) {
        return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
        audio.addEventListener("loadedmetadata", resolve, { once: true });
        audio.addEventListener("error", () => reject(new Error("the recording could not be played")), { once: true });
    });
}

registry.category("web_tour.tours").add("builtin_telephony_call_history", {
    url: "/odoo",
    steps: () => [
        ...openBuiltinTelephony("Call history"),
        {
            content: "Every call is listed",
            trigger: ".o_telephony_history_pager:contains('1-3 / 3')",
        },
        {
            content: "Only the missed calls",
            trigger: "select.o_telephony_history_type",
            run: "select missed",
        },
        {
            content: "One missed call",
            trigger: ".o_telephony_history_pager:contains('1-1 / 1')",
        },
        {
            content: "It is the missed one",
            trigger: ".o_telephony_history_row[data-call-type=missed]:contains('Missed')",
        },
        {
            content: "Back to every call type",
            trigger: "select.o_telephony_history_type",
            run: "selectByLabel All calls",
        },
        {
            content: "Only Sam's calls",
            trigger: "select.o_telephony_history_owner",
            run: "selectByLabel Sam Seller",
        },
        {
            content: "Sam made one call",
            trigger: ".o_telephony_history_pager:contains('1-1 / 1')",
        },
        {
            content: "Of this month",
            trigger: "select.o_telephony_history_period",
            run: "select this_month",
        },
        {
            content: "Sam's call is from this month",
            trigger: ".o_telephony_history_row:contains('Sam Seller')",
        },
        {
            content: "Download the filtered list",
            trigger: "button.o_telephony_history_download:enabled",
            run: "click",
        },
        {
            content: "The download finished",
            trigger: ".o_notification:contains('The call history was downloaded')",
        },
        {
            content: "Play Sam's recorded call",
            trigger: ".o_telephony_history_row:contains('Sam Seller') .o_telephony_history_play",
            run: "click",
        },
        {
            content: "The recording plays in the page, through the access-checked route",
            trigger: ".o_telephony_history_player audio[src^='/telephony/recording/']",
            async run() {
                const audio = document.querySelector(".o_telephony_history_player audio");
                await waitForAudio(audio);
                if (!(audio.duration > 0.9 && audio.duration < 1.1)) {
                    throw new Error(`The recording lasts ${audio.duration} s, not the sandbox's 1 s`);
                }
            },
        },
        {
            content: "Open Telephony › Calls",
            trigger: ".o_main_navbar [data-menu-xmlid='builtin_telephony.menu_telephony_calls']",
            run: "click",
        },
        {
            content: "The calls are listed",
            trigger: ".o_list_view .o_data_row",
        },
        {
            content: "Open the filters",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Missed calls only",
            trigger: ".o_filter_menu .o_menu_item:contains('Missed')",
            run: "click",
        },
        {
            content: "One missed call is left",
            trigger: ".o_list_view:not(:has(.o_data_row:nth-child(2))) .o_data_row:contains('Missed')",
        },
        {
            content: "Report on them in the pivot view",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "The pivot shows the share of missed calls",
            trigger: ".o_pivot th:contains('Missed (%)')",
        },
    ],
});
