import Appeals

/// Prints what an import did, one line per reported row.
func printImport(_ report: ImportReport, noun: String, campaign: String) {
    print("imported \(report.imported) \(noun) into \(campaign)")
    if !report.alreadyPresent.isEmpty {
        print("\(report.alreadyPresent.count) already present, not added again:")
        for issue in report.alreadyPresent { print("  \(issue)") }
    }
    if !report.skipped.isEmpty {
        printWarning("\(report.skipped.count) invalid, skipped:")
        for issue in report.skipped { printWarning("  \(issue)") }
    }
}
