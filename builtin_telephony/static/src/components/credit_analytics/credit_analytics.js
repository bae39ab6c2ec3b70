/** @odoo-module **/
import { Component, onMounted, onWillStart, onWillUnmount, useRef, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { loadBundle } from "@web/core/assets";
import { deserializeDate } from "@web/core/l10n/dates";
import { KeepLast } from "@web/core/utils/concurrency";
import { formatFloat } from "@web/core/utils/numbers";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { formatDay, periodError, periodPresets } from "@builtin_telephony/utils/periods";

/**
 * Credit analytics of the Plan details tab (W6): credits purchased and used in a period,
 * and a bar chart of both, from `telephony.account.get_credit_analytics`.
 * Chart.js is Odoo's own, loaded as the graph view loads it.
 */
export class CreditAnalytics extends Component {
    static template = "builtin_telephony.CreditAnalytics";
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService("orm");
        this.keepLast = new KeepLast();
        this.canvasRef = useRef("canvas");
        this.periods = periodPresets();
        this.state = useState({
            period: "this_month",
            dateFrom: "",
            dateTo: "",
            figures: null,
            error: "",
        });
        this.chart = null;
        onWillStart(async () => {
            await loadBundle("web.chartjs_lib");
            await this.load();
        });
        onMounted(() => this.renderChart());
        onWillUnmount(() => this.chart?.destroy());
    }

    async load() {
        const { period, dateFrom, dateTo } = this.state;
        this.state.error = periodError(period, dateFrom, dateTo);
        if (this.state.error) {
            this.keepLast.add(Promise.resolve()); // an answer still on its way is out of date
            return;
        }
        // Only the answer to the last period is shown, whatever order the answers come in.
        this.state.figures = await this.keepLast.add(
            this.orm.call(
                "telephony.account",
                "get_credit_analytics",
                [[this.props.record.resId], period],
                { date_from: dateFrom || false, date_to: dateTo || false }
            )
        );
    }

    async onPeriodChange(ev) {
        this.state.period = ev.target.value;
        await this.refresh();
    }

    async onDateChange(field, ev) {
        this.state[field] = ev.target.value;
        await this.refresh();
    }

    async refresh() {
        await this.load();
        this.renderChart();
    }

    // In the user's language, as Odoo's fields show numbers and dates (not the browser's locale).
    formatCredits(value) {
        return formatFloat(value || 0, { digits: [16, 2] });
    }

    formatDay(value) {
        return formatDay(value);
    }

    /**
     * The label of a bar: the server sends every day (week, month) of the period, labelled by
     * its first day; the axis names them as a calendar does.
     */
    formatLabel(label, bucket) {
        const date = deserializeDate(label);
        if (bucket === "month") {
            return date.toFormat("MMM yyyy");
        }
        if (bucket === "week") {
            return _t("Week of %s", date.toFormat("d MMM"));
        }
        return date.toFormat("d MMM");
    }

    renderChart() {
        const figures = this.state.figures;
        if (!figures || !this.canvasRef.el) {
            return;
        }
        const data = {
            labels: figures.series.map((point) => this.formatLabel(point.label, figures.bucket)),
            datasets: [
                { label: _t("Credits purchased"), data: figures.series.map((p) => p.purchased), backgroundColor: "#28a745" },
                { label: _t("Credits used"), data: figures.series.map((p) => p.used), backgroundColor: "#dc3545" },
            ],
        };
        if (this.chart) {
            this.chart.data = data;
            this.chart.update();
            return;
        }
        this.chart = new Chart(this.canvasRef.el, {
            type: "bar",
            data,
            options: {
                maintainAspectRatio: false,
                animation: false,
                scales: {
                    // Every period on the axis, none skipped (a month is 28 to 31 bars).
                    x: { ticks: { autoSkip: false, maxRotation: 90, minRotation: 0 } },
                    y: { beginAtZero: true },
                },
            },
        });
    }
}

registry.category("view_widgets").add("telephony_credit_analytics", {
    component: CreditAnalytics,
});
