/** @odoo-module **/
import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { KeepLast } from "@web/core/utils/concurrency";
import { formatFloat } from "@web/core/utils/numbers";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { formatDay, orderedRange, periodError, periodPresets } from "@builtin_telephony/utils/periods";

const PAGE_SIZE = 50;

/**
 * The reason the server gave for refusing the download: a 400 of the CSV route is werkzeug's
 * error page, whose `<p>` holds the message (HTML-escaped); any other body is read as text.
 */
export function errorReason(body) {
    const page = new DOMParser().parseFromString(body || "", "text/html");
    const text = (page.querySelector("p") || page.body)?.textContent || "";
    return text.replace(/\s+/g, " ").trim();
}

/**
 * The Call history tab (requirements H1, H2): every call the user may see, filtered by call type, owner
 * and period (the credit analytics' presets), a play button per recorded call, and the filtered
 * list as CSV (`/telephony/calls/export.csv`, the same filters, streamed by the server).
 */
export class CallHistory extends Component {
    static template = "builtin_telephony.CallHistory";
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.keepLast = new KeepLast();
        this.callTypes = [
            ["", _t("All calls")],
            ["incoming", _t("Incoming")],
            ["outgoing", _t("Outgoing")],
            ["missed", _t("Missed")],
        ];
        this.periods = [["", _t("Any time")], ...periodPresets()];
        this.state = useState({
            callType: "",
            userId: "",
            period: "",
            dateFrom: "",
            dateTo: "",
            offset: 0,
            history: null,
            owners: [],
            playing: false,
            downloading: false,
            error: "",
        });
        onWillStart(async () => {
            const users = await this.orm.searchRead("telephony.user", [], ["user_id"]);
            const seen = new Map(users.filter((u) => u.user_id).map((u) => [u.user_id[0], u.user_id[1]]));
            this.state.owners = [...seen.entries()].sort((a, b) => a[1].localeCompare(b[1]));
            await this.load();
        });
    }

    async load() {
        const { callType, userId, period, offset } = this.state;
        const [dateFrom, dateTo] = orderedRange(this.state.dateFrom, this.state.dateTo);
        this.state.error = periodError(period, dateFrom, dateTo);
        if (this.state.error) {
            this.keepLast.add(Promise.resolve()); // an answer still on its way is out of date
            return;
        }
        // Only the answer to the last filters is shown, whatever order the answers come in.
        this.state.history = await this.keepLast.add(this.orm.call("telephony.call", "get_call_history", [], {
            call_type: callType || false,
            user_id: userId ? parseInt(userId) : false,
            period: period || false,
            date_from: dateFrom || false,
            date_to: dateTo || false,
            offset,
            limit: PAGE_SIZE,
        }));
    }

    async onFilter(field, ev) {
        this.state[field] = ev.target.value;
        this.state.offset = 0;
        this.state.playing = false;
        await this.load();
    }

    async onPage(step) {
        this.state.offset = Math.max(0, this.state.offset + step * PAGE_SIZE);
        await this.load();
    }

    get pageLabel() {
        const history = this.state.history;
        if (!history || !history.length) {
            return "0";
        }
        const last = Math.min(this.state.offset + PAGE_SIZE, history.length);
        return `${this.state.offset + 1}-${last} / ${history.length}`;
    }

    formatDate(value) {
        return value ? formatDateTime(deserializeDateTime(value)) : "";
    }

    formatDay(value) {
        return formatDay(value);
    }

    // A call's charge at the rate's precision, in the user's language (as the ledger shows it).
    formatCredits(value) {
        return formatFloat(value || 0, { digits: [16, 4] });
    }

    togglePlay(recordingId) {
        this.state.playing = this.state.playing === recordingId ? false : recordingId;
    }

    /** Fetch the CSV (the page shows that it runs), then hand it to the browser as a file. */
    async download() {
        const url = this.state.history.export_url;
        this.state.downloading = true;
        try {
            let response;
            try {
                response = await fetch(url, { credentials: "same-origin" });
            } catch {
                response = null; // the server could not be reached
            }
            const isCsv = (response?.headers.get("Content-Type") || "").startsWith("text/csv");
            if (!response?.ok || !isCsv) {
                // A 400 says which parameter is wrong; anything else (a proxy's error page, the
                // login page of an expired session) is not worth showing.
                const reason = response?.status === 400 && errorReason(await response.text());
                this.notification.add(reason || _t("The download failed. Try again."), { type: "danger" });
                return;
            }
            const blob = await response.blob();
            const disposition = response.headers.get("Content-Disposition") || "";
            const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/.exec(disposition);
            const link = document.createElement("a");
            link.href = URL.createObjectURL(blob);
            link.download = match ? decodeURIComponent(match[1]) : "calls.csv";
            document.body.appendChild(link);
            link.click();
            link.remove();
            setTimeout(() => URL.revokeObjectURL(link.href), 1000);
            this.notification.add(_t("The call history was downloaded."), { type: "success" });
        } finally {
            this.state.downloading = false;
        }
    }
}

registry.category("view_widgets").add("telephony_call_history", {
    component: CallHistory,
});
