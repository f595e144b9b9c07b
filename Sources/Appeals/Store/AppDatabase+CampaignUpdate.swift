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
            guard let found = try Campaign.filter(Column("slug") == slug).fetchOne(db) else {
                throw AppealsError.notFound("no campaign \(slug): a campaign's slug cannot change; `appeal-cli campaign list` shows the campaigns (or create it with `campaign create`)")
            }
            var (stored, update) = CampaignUpdate.applying(folder.campaign, to: found)
            try stored.update(db)
            let old = try Row.fetchAll(db, sql: "SELECT language, subject, letter FROM campaign_template WHERE campaign_id = ?", arguments: [stored.id])
                .reduce(into: [String: [String]]()) { $0[$1["language"]] = [$1["subject"], $1["letter"]] }
            update.compareTemplates(old: old, new: folder.templates)
            try db.execute(sql: "DELETE FROM campaign_template WHERE campaign_id = ?", arguments: [stored.id])
            for template in folder.templates {
                try db.execute(sql: "INSERT INTO campaign_template (campaign_id, language, subject, letter) VALUES (?, ?, ?, ?)",
                               arguments: [stored.id, template.language, template.subjectSource, template.letterSource])
            }
            let (added, changed) = try update.mergeTargets(folder, campaignId: stored.id!,
                                                           existing: try Target.filter(Column("campaign_id") == stored.id!).fetchAll(db))
            for target in changed { try target.update(db) }
            for var target in added { try target.insert(db) }

            // Nothing changed: the letters stay exactly as they were written (and dated).
            if !update.isEmpty {
                let composer = try LetterComposer(campaign: stored, templates: folder.templates, timeZone: timeZone)
                update.lettersRewritten = try Self.rewriteUnsentLetters(db, where: "l.campaign_id = ?", [stored.id], composer: composer, now: now)
            }
            return update
        }
    }
}
