import Foundation

extension Target {
    /// `salutation_<lang>` columns give the salutation in another language, such as `salutation_de`.
    public static let csvColumns = ["kind", "name", "title", "salutation", "email", "country", "language", "postal_address", "fax", "timezone",
                                    "salutation_*"]
    public static let csvRequiredColumns = ["kind", "name", "email"]

    /// A problem for each target without a salutation, when the templates use `{{target.salutation}}`: a letter
    /// must never begin with ",".
    static func missingSalutations(_ targets: [(line: Int, target: Target)], file: String, templates: [String]) -> [InputIssue] {
        guard templates.contains(where: { $0.contains("target.salutation") }) else { return [] }
        return targets.filter { $0.target.salutation.isEmpty }.map { entry in
            InputIssue(InputLocation(file: file, line: entry.line > 0 ? entry.line : nil, field: "salutation"),
                       "is empty, but the letters begin with {{target.salutation}}: give one, such as \"Your Excellency\" or \"Dear Minister\"")
        }
    }

    /// The targets of `table` to add to a campaign, by the import's rules: every row checked (salutations
    /// against the campaign's `templates`), an address the campaign has already reported and not added again,
    /// an embassy in a country that has one refused.
    /// - Parameter existing: the campaign's targets.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing every bad line, unless `skipInvalid`: the store must
    ///   then keep nothing.
    public static func importing(_ table: CSVTable, into campaign: Campaign, templates: [String], existing: [Target],
                                 skipInvalid: Bool) throws(AppealsError) -> (targets: [Target], report: ImportReport) {
        var (parsed, issues) = parse(table, campaignId: campaign.id!)
        let unsaluted = missingSalutations(parsed, file: table.file, templates: templates)
        issues += unsaluted
        parsed.removeAll { entry in unsaluted.contains { $0.location.line == entry.line } }
        if !issues.isEmpty && !skipInvalid { throw .invalidInput(issues) }
        var report = ImportReport()
        report.skipped.append(contentsOf: issues)
        let existingEmails = Set(existing.map(\.emailKey))
        let embassyCountries = Dictionary(existing.filter { $0.kind == .embassy }.compactMap { t in t.country.map { ($0, t.email) } },
                                          uniquingKeysWith: { first, _ in first })
        var conflicts: [InputIssue] = []
        var targets: [Target] = []
        for (line, target) in parsed {
            if existingEmails.contains(target.emailKey) {
                report.alreadyPresent.append(InputIssue(InputLocation(file: table.file, line: line, field: "email"),
                                                        "\(target.email) is already a target of \(campaign.slug)"))
            } else if target.kind == .embassy, let country = target.country, let other = embassyCountries[country] {
                conflicts.append(InputIssue(InputLocation(file: table.file, line: line, field: "country"),
                                            "\(campaign.slug) already has an embassy in \(country) (\(other)); a country has one embassy"))
            } else {
                targets.append(target)
            }
        }
        if !conflicts.isEmpty {
            if !skipInvalid { throw .invalidInput(conflicts) }
            report.skipped.append(contentsOf: conflicts)
        }
        report.imported = targets.count
        return (targets, report)
    }

    /// The target's values by CSV column, as `targets.csv` would give them.
    var csvValues: [String: String] {
        var values = ["kind": kind.rawValue, "name": name, "title": title, "salutation": salutation, "email": email, "country": country ?? "",
                      "language": language ?? "", "postal_address": postalAddress ?? "", "fax": fax ?? "", "timezone": timezone ?? ""]
        for (language, text) in salutations { values["salutation_\(language)"] = text }
        return values
    }

    /// Reads targets from a `targets.csv` table.
    ///
    /// Within one file an email or an embassy's country may appear only once: the targeting rule picks
    /// one embassy per country, and a target written to twice would receive every letter twice.
    /// - Returns: the targets with the line each came from, and every problem found.
    static func parse(_ table: CSVTable, campaignId: Int64) -> (targets: [(line: Int, target: Target)], issues: [InputIssue]) {
        parse(table.rows, file: table.file, campaignId: campaignId)
    }

    static func parse(_ rows: [CSVTable.Row], file: String, campaignId: Int64) -> (targets: [(line: Int, target: Target)], issues: [InputIssue]) {
        var targets: [(line: Int, target: Target)] = []
        var issues: [InputIssue] = []
        var lineByEmail: [String: Int] = [:]
        var lineByEmbassyCountry: [String: Int] = [:]
        for row in rows {
            var check = RowChecker(row, file: file)
            let kindText = row["kind"].lowercased()
            let kind = TargetKind(rawValue: kindText)
            if kind == nil {
                check.fail("kind", kindText.isEmpty ? "is required (official or embassy)" : "\"\(row["kind"])\" is not official or embassy")
            }
            let name = check.text("name", required: true)
            let title = check.text("title")
            let salutation = check.text("salutation")
            var salutations: [String: String] = [:]
            for column in row.columns where column.hasPrefix("salutation_") {
                let code = String(column.dropFirst("salutation_".count))
                guard let language = TextRules.normalizedLanguage(code) else {
                    check.fail(column, "\"\(code)\" is not a language code: name the column salutation_de, salutation_fr, …")
                    continue
                }
                let text = check.text(column)
                if !text.isEmpty { salutations[language] = text }
            }
            let email = check.email("email")
            let country = check.country("country", required: kind == .embassy)
            let language = check.language("language")
            let postalAddress = check.paragraph("postal_address", maxLength: 1000)
            let fax = check.text("fax", maxLength: 40)
            let timezone = row["timezone"]
            if !timezone.isEmpty && TimeZone(identifier: timezone) == nil {
                check.fail("timezone", "\"\(timezone)\" is not an IANA time zone (such as Asia/Baku)")
            }
            let key = EmailAddress.key(email)
            if let first = lineByEmail[key] {
                check.fail("email", "\(email) is already a target on line \(first)")
            } else if !key.isEmpty {
                lineByEmail[key] = row.line
            }
            if kind == .embassy, let country {
                if let first = lineByEmbassyCountry[country] {
                    check.fail("country", "line \(first) already names the embassy in \(country); a country has one embassy")
                } else {
                    lineByEmbassyCountry[country] = row.line
                }
            }
            issues += check.issues
            guard check.issues.isEmpty, let kind else { continue }
            let target = Target(
                id: nil, campaignId: campaignId, kind: kind, name: name, title: title, salutation: salutation, salutations: salutations,
                email: email, emailKey: key, country: country, language: language, postalAddress: postalAddress,
                fax: fax.isEmpty ? nil : fax, timezone: timezone.isEmpty ? nil : timezone, disabled: false, disabledReason: nil,
                removedAt: nil)
            targets.append((row.line, target))
        }
        return (targets, issues)
    }
}
