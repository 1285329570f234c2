from typing import Literal

DispatchReportSummary = Literal["complete", "partial"]

DISPATCH_REPORT_SUMMARY_VALUES: set[DispatchReportSummary] = {
    "complete",
    "partial",
}


def check_dispatch_report_summary(value: str) -> DispatchReportSummary:
    if value in DISPATCH_REPORT_SUMMARY_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {DISPATCH_REPORT_SUMMARY_VALUES!r}")
