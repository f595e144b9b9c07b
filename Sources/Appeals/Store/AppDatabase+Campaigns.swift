import Foundation
import GRDB
import Synchronization

extension AppDatabase {
    /// Stores a checked campaign folder: the campaign, its templates and its targets, in one transaction.
    /// - Throws: ``AppealsError/conflict(_:)`` when a campaign with the same slug exists.
    @discardableResult
    public func createCampaign(_ folder: CampaignFolder) throws(AppealsError) -> Campaign {
        try write { db in
            var campaign = folder.campaign
            if try Campaign.filter(Column("slug") == campaign.slug).fetchCount(db) > 0 {
                throw AppealsError.conflict("campaign \(campaign.slug) already exists")
            }
            try campaign.insert(db)
            let campaignId = campaign.id!
            for template in folder.templates {
                try db.execute(
                    sql: "INSERT INTO campaign_template (campaign_id, language, subject, letter) VALUES (?, ?, ?, ?)",
                    arguments: [campaignId, template.language, template.subjectSource, template.letterSource])
            }
            for var target in folder.parsedTargets(campaignId: campaignId) { try target.insert(db) }
            return campaign
        }
    }

    public func campaigns() throws(AppealsError) -> [Campaign] {
        try read { db in try Campaign.order(Column("slug")).fetchAll(db) }
    }

    /// - Throws: ``AppealsError/notFound(_:)`` naming the slug.
    public func campaign(_ slug: String) throws(AppealsError) -> Campaign {
        try read { db in try Self.campaign(slug, in: db) }
    }

    static func campaign(_ slug: String, in db: Database) throws -> Campaign {
        guard let campaign = try Campaign.filter(Column("slug") == slug).fetchOne(db) else {
            throw AppealsError.notFound("no campaign \(slug); `appeal-cli campaign list` shows the campaigns")
        }
        return campaign
    }

    /// Opens, pauses or closes a campaign.
    @discardableResult
    public func setStatus(_ status: CampaignStatus, ofCampaign slug: String) throws(AppealsError) -> Campaign {
        try write { db in
            var campaign = try Self.campaign(slug, in: db)
            campaign.status = status
            try campaign.update(db)
            return campaign
        }
    }

    /// The campaign's letter renderer, from its stored templates.
    /// - Parameter cache: keeps the parsed templates between calls; they are read each time and parsed again
    ///   only when they or the campaign changed.
    public func composer(for slug: String, timeZone: TimeZone = .current, cache: ComposerCache? = nil) throws(AppealsError) -> LetterComposer {
        let (campaign, sources) = try read { db in
            let campaign = try Self.campaign(slug, in: db)
            let rows = try Row.fetchAll(db, sql: "SELECT language, subject, letter FROM campaign_template WHERE campaign_id = ? ORDER BY language",
                                        arguments: [campaign.id])
            return (campaign, rows.map { [$0["language"], $0["subject"], $0["letter"]] as [String] })
        }
        if let composer = cache?.composer(campaign: campaign, sources: sources, timeZone: timeZone) { return composer }
        let composer = try LetterComposer(campaign: campaign, storedTemplates: sources, timeZone: timeZone)
        cache?.keep(composer, sources: sources, timeZone: timeZone)
        return composer
    }
}

/// Parsed letter templates kept between requests, by campaign (see ``AppDatabase/composer(for:timeZone:cache:)``).
public final class ComposerCache: Sendable {
    private struct Entry {
        let composer: LetterComposer
        let sources: [[String]]
        let timeZone: TimeZone
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// The composer kept for `campaign`, if its templates (`sources`), fields and time zone are those it was made from.
    public func composer(campaign: Campaign, sources: [[String]], timeZone: TimeZone) -> LetterComposer? {
        entries.withLock { entries in
            guard let entry = entries[campaign.slug], entry.composer.campaign == campaign, entry.sources == sources,
                  entry.timeZone == timeZone else { return nil }
            return entry.composer
        }
    }

    public func keep(_ composer: LetterComposer, sources: [[String]], timeZone: TimeZone) {
        entries.withLock { $0[composer.campaign.slug] = Entry(composer: composer, sources: sources, timeZone: timeZone) }
    }
}
