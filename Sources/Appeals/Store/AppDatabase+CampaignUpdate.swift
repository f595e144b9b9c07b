import Foundation
import GRDB

/// What `campaign update` changed.
public struct CampaignUpdate: Sendable, Equatable {
    /// `campaign.json` keys whose value changed.
    public var changedKeys: [String] = []
    /// Languages whose subject or letter template changed, was added or was removed.
    public var changedTemplates: [String] = []
    public var targetsAdded: [String] = []
    public var targetsChanged: [String] = []
    /// Targets no longer in `targets.csv`: kept (with their letters) until removed with `target remove`.
    public var targetsNotInFile: [String] = []
    /// Unsent letters written again.
    public var lettersRewritten = 0
    /// `status` in `campaign.json` differs from the campaign's: left as it is (open, pause and close set it).
    public var statusInFile: CampaignStatus?

    public var isEmpty: Bool {
        changedKeys.isEmpty && changedTemplates.isEmpty && targetsAdded.isEmpty && targetsChanged.isEmpty
    }
}

extension AppDatabase {
    /// Applies a campaign folder, checked as `campaign create` checks it, to the stored campaign of the same
    /// slug: its fields, templates and targets; then writes every unsent letter again. Sent letters never change.
    /// - Throws: ``AppealsError/notFound(_:)`` when no campaign has the folder's slug (a slug cannot change).
    public func updateCampaign(_ folder: CampaignFolder, now: Date = Date(), timeZone: TimeZone = .current) throws(AppealsError) -> CampaignUpdate {
        try write { db in
            let slug = folder.campaign.slug
            guard var stored = try Campaign.filter(Column("slug") == slug).fetchOne(db) else {
                throw AppealsError.notFound("no campaign \(slug): a campaign's slug cannot change; `appeal-cli campaign list` shows the campaigns (or create it with `campaign create`)")
            }
            var update = CampaignUpdate()
            let new = folder.campaign
            let fields: [(String, Bool)] = [
                ("title", stored.title != new.title), ("organization", stored.organization != new.organization),
                ("summary", stored.summary != new.summary), ("demands", stored.demands != new.demands || stored.demandsByLanguage != new.demandsByLanguage),
                ("languages", stored.languages != new.languages), ("deadline", stored.deadline != new.deadline),
                ("sendingHours", stored.sendingHours != new.sendingHours),
            ]
            update.changedKeys = fields.filter(\.1).map(\.0)
            if new.status != stored.status { update.statusInFile = new.status }
            stored.title = new.title
            stored.organization = new.organization
            stored.summary = new.summary
            stored.demands = new.demands
            stored.demandsByLanguage = new.demandsByLanguage
            stored.languages = new.languages
            stored.deadline = new.deadline
            stored.sendingHours = new.sendingHours
            try stored.update(db)

            let old = try Row.fetchAll(db, sql: "SELECT language, subject, letter FROM campaign_template WHERE campaign_id = ?", arguments: [stored.id])
                .reduce(into: [String: [String]]()) { $0[$1["language"]] = [$1["subject"], $1["letter"]] }
            let templates = folder.templates.keyed(by: \.language)
            update.changedTemplates = Set(old.keys).union(templates.keys).sorted().filter { language in
                old[language] != templates[language].map { [$0.subjectSource, $0.letterSource] }
            }
            try db.execute(sql: "DELETE FROM campaign_template WHERE campaign_id = ?", arguments: [stored.id])
            for template in folder.templates {
                try db.execute(sql: "INSERT INTO campaign_template (campaign_id, language, subject, letter) VALUES (?, ?, ?, ?)",
                               arguments: [stored.id, template.language, template.subjectSource, template.letterSource])
            }

            let existing = try Target.filter(Column("campaign_id") == stored.id!).fetchAll(db).keyed(by: \.emailKey)
            let (parsed, _) = Target.parse(folder.targets, campaignId: stored.id!)
            var inFile = Set<String>()
            for (line, var target) in parsed {
                inFile.insert(target.emailKey)
                if let current = existing[target.emailKey] {
                    target.id = current.id
                    target.disabled = current.disabled
                    target.disabledReason = current.disabledReason
                    target.removedAt = current.removedAt
                    if target != current {
                        try Self.checkEmbassy(target, line: line, file: folder.targets.file, in: db)
                        try target.update(db)
                        update.targetsChanged.append(target.email)
                    }
                } else {
                    try Self.checkEmbassy(target, line: line, file: folder.targets.file, in: db)
                    try target.insert(db)
                    update.targetsAdded.append(target.email)
                }
            }
            update.targetsNotInFile = existing.values.filter { !inFile.contains($0.emailKey) && $0.removedAt == nil }.map(\.email).sorted()

            // Nothing changed: the letters stay exactly as they were written (and dated).
            if !update.isEmpty {
                let composer = try LetterComposer(campaign: stored, templates: folder.templates, timeZone: timeZone)
                update.lettersRewritten = try Self.rewriteUnsentLetters(db, where: "l.campaign_id = ?", [stored.id], composer: composer, now: now)
            }
            return update
        }
    }

    /// A country has one embassy: another target's embassy there refuses this one.
    private static func checkEmbassy(_ target: Target, line: Int, file: String, in db: Database) throws {
        guard target.kind == .embassy, let country = target.country else { return }
        if let other = try Target.filter(Column("campaign_id") == target.campaignId && Column("kind") == "embassy" && Column("country") == country
                                         && Column("id") != (target.id ?? -1)).fetchOne(db) {
            throw AppealsError.invalid(InputLocation(file: file, line: line, field: "country"),
                                       "the campaign already has an embassy in \(country) (\(other.email)); a country has one embassy")
        }
    }
}
