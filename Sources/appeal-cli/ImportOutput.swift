import Appeals

/// Prints what an import did, one line per reported row (the first thousand of each kind, then a count).
func printImport(_ report: ImportReport, noun: String, campaign: String) {
    print("imported \(plural(report.imported, noun)) into \(campaign)")
    if !report.alreadyPresent.isEmpty {
        print("\(report.alreadyPresent.count) already present, not added again:")
        for issue in report.alreadyPresent.listed { print("  \(issue)") }
        if report.alreadyPresent.unlisted > 0 { print("  and \(report.alreadyPresent.unlisted) more") }
    }
    if !report.skipped.isEmpty {
        printWarning("\(report.skipped.count) invalid, skipped:")
        for issue in report.skipped.listed { printWarning("  \(issue)") }
        if report.skipped.unlisted > 0 { printWarning("  and \(report.skipped.unlisted) more") }
    }
}
