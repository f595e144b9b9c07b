import Foundation
import GRDB

extension AppDatabase {
    /// Adds targets to a campaign from a `targets.csv` table, all or nothing unless `skipInvalid`.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing every bad line; nothing is stored.
    public func importTargets(_ table: CSVTable, campaign slug: String, skipInvalid: Bool = false) throws(AppealsError) -> ImportReport {
        try write { db in
            let campaign = try Self.campaign(slug, in: db)
            var (parsed, issues) = Target.parse(table, campaignId: campaign.id!)
            let templates = try Self.templateSources(campaignId: campaign.id!, in: db)
            let unsaluted = Target.missingSalutations(parsed, file: table.file, templates: templates)
            issues += unsaluted
            parsed.removeAll { entry in unsaluted.contains { $0.location.line == entry.line } }
            if !issues.isEmpty && !skipInvalid { throw AppealsError.invalidInput(issues) }
            var report = ImportReport()
            report.skipped.append(contentsOf: issues)
            let existing = try Target.filter(Column("campaign_id") == campaign.id!).fetchAll(db)
            let existingEmails = Set(existing.map(\.emailKey))
            let embassyCountries = Dictionary(existing.filter { $0.kind == .embassy }.compactMap { t in t.country.map { ($0, t.email) } },
                                              uniquingKeysWith: { first, _ in first })
            var conflicts: [InputIssue] = []
            for (line, target) in parsed {
                if existingEmails.contains(target.emailKey) {
                    report.alreadyPresent.append(InputIssue(InputLocation(file: table.file, line: line, field: "email"),
                                                            "\(target.email) is already a target of \(slug)"))
                    continue
                }
                if target.kind == .embassy, let country = target.country, let other = embassyCountries[country] {
                    conflicts.append(InputIssue(InputLocation(file: table.file, line: line, field: "country"),
                                                "\(slug) already has an embassy in \(country) (\(other)); a country has one embassy"))
                    continue
                }
                var target = target
                try target.insert(db)
                report.imported += 1
            }
            if !conflicts.isEmpty {
                if !skipInvalid { throw AppealsError.invalidInput(conflicts) }
                report.skipped.append(contentsOf: conflicts)
            }
            return report
        }
    }

    /// Adds supporters to a campaign, all or nothing unless `skipInvalid`, reading the rows as they come.
    ///
    /// A supporter whose email (trimmed, case-insensitive) is already in the campaign, or earlier in the
    /// same file, is reported and not stored again: importing the same list twice adds nobody. Rows are written
    /// as they are read, in one transaction that a bad row rolls back: memory stays flat with the file's size.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing the bad lines (the first thousand, and a count of
    ///   the others); nothing is stored.
    public func importSupporters(_ source: any CSVRowSource, campaign slug: String, skipInvalid: Bool = false, now: Date = Date()) throws(AppealsError) -> ImportReport {
        try write { db in
            let campaign = try Self.campaign(slug, in: db)
            if campaign.status == .closed { throw AppealsError.conflict("campaign \(slug) is closed: it takes no more supporters") }
            var report = ImportReport()
            var problems = IssueList()
            // The line each address was first seen on, by the hash of its key: a few bytes per row, not its text.
            // The database's unique constraint, not this map, decides what is a duplicate.
            var firstLine: [Int: Int] = [:]
            // A cached statement: `Codable` encoding with snake-case keys cost more than the rest of the import.
            let insert = try db.cachedStatement(sql: """
                INSERT INTO supporter (campaign_id, name, email, email_key, country, city, language, consent, personal_note, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, email_key) DO NOTHING
                """)
            var dates = DatabaseDates()
            try source.forEachItem { item in
                let row: CSVTable.Row
                switch item {
                case .problem(let issue):
                    problems.append(issue)
                    return
                case .row(let value):
                    row = value
                }
                let supporter: Supporter
                switch Supporter.parse(row, file: source.file, campaignId: campaign.id!, now: now) {
                case .failure(let bad):
                    problems.append(contentsOf: bad.issues)
                    return
                case .success(let value):
                    supporter = value
                }
                // The file will be refused whole: reading on only finds the other bad lines.
                if !problems.isEmpty && !skipInvalid { return }
                let key = supporter.emailKey!
                let location = InputLocation(file: source.file, line: row.line > 0 ? row.line : nil, field: "email")
                let first = firstLine[key.hashValue]
                if first == nil { firstLine[key.hashValue] = row.line }
                try insert.execute(arguments: [supporter.campaignId, supporter.name, supporter.email, supporter.emailKey, supporter.country,
                                               supporter.city, supporter.language, supporter.consent, supporter.personalNote,
                                               dates.value(supporter.createdAt)])
                if db.changesCount == 1 {
                    report.imported += 1
                } else if let first {
                    report.alreadyPresent.append(InputIssue(location, "\(supporter.email!) is already on line \(first); kept line \(first)"))
                } else {
                    report.alreadyPresent.append(InputIssue(location, "\(supporter.email!) is already a supporter of \(slug)"))
                }
            }
            if !problems.isEmpty && !skipInvalid { throw AppealsError.invalidInput(problems.all(file: source.file)) }
            report.skipped = problems
            return report
        }
    }

    /// Adds one supporter given on the command line, checked like a CSV row.
    /// - Parameter values: by CSV column name (`name`, `email`, `country`, `city`, `language`, `personal_note`).
    public func addSupporter(_ values: [String: String], campaign slug: String, now: Date = Date()) throws(AppealsError) -> ImportReport {
        let table = CSVTable(file: "supporter add", rows: [CSVTable.Row(line: 0, values: values)])
        return try importSupporters(table, campaign: slug, now: now)
    }

    public func targets(ofCampaign slug: String) throws(AppealsError) -> [Target] {
        try read { db in
            let campaign = try Self.campaign(slug, in: db)
            return try Target.filter(Column("campaign_id") == campaign.id!).order(Column("kind").desc, Column("id")).fetchAll(db)
        }
    }

    /// - Throws: ``AppealsError/notFound(_:)`` when no supporter of the campaign has that email.
    public func supporter(email: String, campaign slug: String) throws(AppealsError) -> Supporter {
        try read { db in
            let campaign = try Self.campaign(slug, in: db)
            guard let supporter = try Supporter.filter(Column("campaign_id") == campaign.id! && Column("email_key") == EmailAddress.key(email)).fetchOne(db)
            else { throw AppealsError.notFound("\(email) is not a supporter of \(slug)") }
            return supporter
        }
    }
}
