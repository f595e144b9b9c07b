import Foundation
import GRDB

extension AppDatabase {
    /// Adds targets to a campaign from a `targets.csv` table, all or nothing unless `skipInvalid`.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing every bad line; nothing is stored.
    public func importTargets(_ table: CSVTable, campaign slug: String, skipInvalid: Bool = false) throws(AppealsError) -> ImportReport {
        try write { db in
            let campaign = try Self.campaign(slug, in: db)
            let (targets, report) = try Target.importing(table, into: campaign, templates: try Self.templateSources(campaignId: campaign.id!, in: db),
                                                         existing: try Target.filter(Column("campaign_id") == campaign.id!).fetchAll(db),
                                                         skipInvalid: skipInvalid)
            for var target in targets { try target.insert(db) }
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
            var rules = try SupporterImport(file: source.file, campaign: try Self.campaign(slug, in: db), skipInvalid: skipInvalid, now: now)
            // A cached statement: `Codable` encoding with snake-case keys cost more than the rest of the import.
            let insert = try db.cachedStatement(sql: """
                INSERT INTO supporter (campaign_id, name, email, email_key, country, city, language, consent, personal_note, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, email_key) DO NOTHING
                """)
            var dates = DatabaseDates()
            try source.forEachItem { item in
                guard let row = rules.take(item) else { return }
                let supporter = row.supporter
                try insert.execute(arguments: [supporter.campaignId, supporter.name, supporter.email, supporter.emailKey, supporter.country,
                                               supporter.city, supporter.language, supporter.consent, supporter.personalNote,
                                               dates.value(supporter.createdAt)])
                rules.stored(row, added: db.changesCount == 1)
            }
            return try rules.finish()
        }
    }

    /// Adds one supporter given on the command line, checked like a CSV row.
    /// - Parameter values: by CSV column name (`name`, `email`, `country`, `city`, `language`, `personal_note`).
    public func addSupporter(_ values: [String: String], campaign slug: String, now: Date = Date()) throws(AppealsError) -> ImportReport {
        try importSupporters(SupporterImport.added(values), campaign: slug, now: now)
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
