import Foundation
import GRDB

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
            for (_, target) in Target.parse(folder.targets, campaignId: campaignId).targets {
                var target = target
                try target.insert(db)
            }
            return campaign
        }
    }

    /// The campaign `send --campaign` names, if its letters can be sent now or later: not a draft, not closed.
    /// - Throws: ``AppealsError/notFound(_:)``, or ``AppealsError/conflict(_:)`` saying why nothing will be sent.
    public func campaignToSend(_ slug: String) throws(AppealsError) -> Campaign {
        let campaign = try campaign(slug)
        switch campaign.status {
        case .active, .paused: return campaign
        case .draft: throw .conflict("campaign \(slug) is a draft: its letters are not sent until it is opened (appeal-cli campaign open \(slug))")
        case .closed: throw .conflict("campaign \(slug) is closed: its letters are never sent (appeal-cli campaign open \(slug) to reopen it)")
        }
    }

    /// Active campaigns (only `slug`, if given) whose deadline has passed at `now`: sending warns of them.
    public func activeCampaignsPastDeadline(slug: String?, now: Date) throws(AppealsError) -> [Campaign] {
        try campaigns().filter { ($0.slug == slug || slug == nil) && $0.status == .active && $0.deadlinePassed(at: now) }
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
    public func composer(for slug: String, timeZone: TimeZone = .current) throws(AppealsError) -> LetterComposer {
        let (campaign, rows) = try read { db in
            let campaign = try Self.campaign(slug, in: db)
            let rows = try Row.fetchAll(db, sql: "SELECT language, subject, letter FROM campaign_template WHERE campaign_id = ?",
                                        arguments: [campaign.id])
            return (campaign, rows)
        }
        var templates: [LetterTemplate] = []
        for row in rows {
            let language: String = row["language"]
            templates.append(try LetterTemplate(language: language, subject: row["subject"], subjectFile: "subject.\(language).mustache",
                                                letter: row["letter"], letterFile: "letter.\(language).mustache"))
        }
        return try LetterComposer(campaign: campaign, templates: templates, timeZone: timeZone)
    }
}
