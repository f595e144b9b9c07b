import Foundation
import GRDB

/// What `queue` did.
public struct QueueReport: Sendable, Equatable {
    public var queued = 0
    public var alreadyQueued = 0
    public var supporters = 0
    /// Supporters who write to the officials only: no embassy in their country.
    public var supportersWithoutEmbassy = 0
    /// Supporters whose consent is "no": nothing is written in their name.
    public var supportersWithoutConsent = 0
}

extension AppDatabase {
    /// Renders and queues every missing letter of a campaign; running it again adds nothing.
    ///
    /// Supporters are read and written in batches, each batch one transaction: memory stays flat
    /// whatever the list size, and a `queue` killed midway leaves whole letters only.
    /// - Throws: ``AppealsError/conflict(_:)`` when the campaign is not `active` or `paused`.
    public func queueLetters(
        campaign slug: String, messageIDs: MessageIDGenerator, now: Date = Date(), timeZone: TimeZone = .current,
        batchSize: Int = 500, progress: ((QueueReport) -> Void)? = nil
    ) throws(AppealsError) -> QueueReport {
        let composer = try composer(for: slug, timeZone: timeZone)
        let campaign = composer.campaign
        guard campaign.status.acceptsLetters else {
            throw .conflict("campaign \(slug) is \(campaign.status.rawValue): letters are queued only for active or paused campaigns (appeal-cli campaign open \(slug))")
        }
        let targeting = Targeting(try read { db in try Target.filter(Column("campaign_id") == campaign.id!).fetchAll(db) })
        var report = QueueReport()
        var lastId: Int64 = 0
        while true {
            let (supporters, existing) = try read { db in
                let supporters = try Supporter
                    .filter(Column("campaign_id") == campaign.id! && Column("id") > lastId && Column("erased_at") == nil)
                    .order(Column("id")).limit(batchSize).fetchAll(db)
                var existing = Set<[Int64]>()
                if let first = supporters.first?.id, let last = supporters.last?.id {
                    let rows = try Row.fetchCursor(db, sql: "SELECT supporter_id, target_id FROM letter WHERE supporter_id BETWEEN ? AND ?",
                                                   arguments: [first, last])
                    while let row = try rows.next() { existing.insert([row[0], row[1]]) }
                }
                return (supporters, existing)
            }
            guard let last = supporters.last else { break }
            lastId = last.id!
            var letters: [(Letter, RenderedLetter)] = []
            for supporter in supporters {
                report.supporters += 1
                if targeting.embassy(for: supporter) == nil { report.supportersWithoutEmbassy += 1 }
                if supporter.consent == false {
                    report.supportersWithoutConsent += 1
                    continue
                }
                for target in targeting.targets(for: supporter) {
                    if existing.contains([supporter.id!, target.id!]) {
                        report.alreadyQueued += 1
                        continue
                    }
                    let rendered = composer.compose(supporter: supporter, target: target, now: now)
                    letters.append((Letter(
                        id: nil, campaignId: campaign.id!, supporterId: supporter.id!, targetId: target.id!,
                        language: rendered.language, messageId: messageIDs.next(), status: .queued, attempts: 0, lastCode: nil,
                        lastReply: nil, queuedAt: now, dueAt: now, claimedBy: nil, claimedAt: nil, sentAt: nil, updatedAt: now,
                        possibleDuplicate: false), rendered))
                }
            }
            if !letters.isEmpty {
                // Another `queue` may have raced us to some pairs: the unique constraint decides, and we count what we added.
                let added = try write { db in
                    var added = 0
                    for (letter, rendered) in letters {
                        var letter = letter
                        try letter.insert(db, onConflict: .ignore)
                        guard db.changesCount == 1, let id = letter.id else { continue }
                        try LetterText(letterId: id, subject: rendered.subject, body: rendered.body).insert(db)
                        added += 1
                    }
                    return added
                }
                report.queued += added
                report.alreadyQueued += letters.count - added
            }
            progress?(report)
        }
        return report
    }
}
