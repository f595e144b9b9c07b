import Foundation
import GRDB

extension AppDatabase {
    /// Adds targets to a campaign from a `targets.csv` table, all or nothing unless `skipInvalid`.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing every bad line; nothing is stored.
    public func importTargets(_ table: CSVTable, campaign slug: String, skipInvalid: Bool = false) throws(AppealsError) -> ImportReport {
        try write { db in
            let campaign = try Self.campaign(slug, in: db)
            let (parsed, issues) = Target.parse(table, campaignId: campaign.id!)
            if !issues.isEmpty && !skipInvalid { throw AppealsError.invalidInput(issues) }
            var report = ImportReport()
            report.skipped = issues
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
                report.skipped += conflicts
            }
            return report
        }
    }

    /// Adds supporters to a campaign, all or nothing unless `skipInvalid`.
    ///
    /// A supporter whose email (trimmed, case-insensitive) is already in the campaign, or earlier in the
    /// same file, is reported and not stored again: importing the same list twice adds nobody.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing every bad line; nothing is stored.
    public func importSupporters(_ table: CSVTable, campaign slug: String, skipInvalid: Bool = false, now: Date = Date()) throws(AppealsError) -> ImportReport {
        try write { db in
            let campaign = try Self.campaign(slug, in: db)
            if campaign.status == .closed { throw AppealsError.conflict("campaign \(slug) is closed: it takes no more supporters") }
            let (parsed, issues) = Supporter.parse(table, campaignId: campaign.id!, now: now)
            if !issues.isEmpty && !skipInvalid { throw AppealsError.invalidInput(issues) }
            var report = ImportReport()
            report.skipped = issues
            var known = try Set(String.fetchAll(db, sql: "SELECT email_key FROM supporter WHERE campaign_id = ? AND email_key IS NOT NULL",
                                                arguments: [campaign.id]))
            var lineByEmail: [String: Int] = [:]
            // A cached statement: `Codable` encoding with snake-case keys cost more than the rest of the import.
            let insert = try db.cachedStatement(sql: """
                INSERT INTO supporter (campaign_id, name, email, email_key, country, city, language, consent, personal_note, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            var dates = DatabaseDates()
            for entry in parsed {
                let key = entry.supporter.emailKey!
                let location = InputLocation(file: table.file, line: entry.line > 0 ? entry.line : nil, field: "email")
                if let first = lineByEmail[key] {
                    report.alreadyPresent.append(InputIssue(location, "\(entry.supporter.email!) is already on line \(first); kept line \(first)"))
                    continue
                }
                lineByEmail[key] = entry.line
                if known.contains(key) {
                    report.alreadyPresent.append(InputIssue(location, "\(entry.supporter.email!) is already a supporter of \(slug)"))
                    continue
                }
                let supporter = entry.supporter
                try insert.execute(arguments: [supporter.campaignId, supporter.name, supporter.email, supporter.emailKey, supporter.country,
                                               supporter.city, supporter.language, supporter.consent, supporter.personalNote,
                                               dates.value(supporter.createdAt)])
                known.insert(key)
                report.imported += 1
            }
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
