import Foundation
import GRDB

/// New values for a target's fields; `nil` keeps the stored value, `""` clears an optional one.
public struct TargetChanges: Sendable, Equatable {
    public var email: String?
    public var name: String?
    public var title: String?
    public var salutation: String?
    public var country: String?
    public var language: String?
    public var postalAddress: String?
    public var fax: String?
    public var timezone: String?

    public init() {}

    var byColumn: [String: String?] {
        ["email": email, "name": name, "title": title, "salutation": salutation, "country": country, "language": language,
         "postal_address": postalAddress, "fax": fax, "timezone": timezone]
    }
}

/// What changing a target did to its letters.
public struct TargetUpdate: Sendable, Equatable {
    public var before: Target
    public var after: Target
    /// Unsent letters written again for the new values (sent letters never change).
    public var rewritten = 0
    /// Letters a running `send` holds: they go with the text they had.
    public var beingSent = 0

    public init(before: Target, after: Target) {
        self.before = before
        self.after = after
    }
}

extension AppDatabase {
    /// Changes a target's address or details, checked as a `targets.csv` row is, and writes its unsent
    /// (queued or deferred) letters again for the new values; sent letters keep their history.
    /// - Throws: ``AppealsError/invalidInput(_:)`` for a bad value, ``AppealsError/conflict(_:)`` when the new
    ///   address or embassy country belongs to another target.
    public func updateTarget(campaign slug: String, email: String, changes: TargetChanges, now: Date = Date(),
                             timeZone: TimeZone = .current) throws(AppealsError) -> TargetUpdate {
        let composer = try composer(for: slug, timeZone: timeZone)
        return try write { db in
            let before = try Self.target(email, campaign: composer.campaign, in: db)
            let after = try before.applying(changes, templates: try Self.templateSources(campaignId: before.campaignId, in: db))
            if after.emailKey != before.emailKey,
               try Target.filter(Column("campaign_id") == before.campaignId && Column("email_key") == after.emailKey).fetchCount(db) > 0 {
                throw AppealsError.conflict("\(after.email) is already another target of \(slug)")
            }
            if after.kind == .embassy, after.country != before.country,
               let other = try Target.filter(Column("campaign_id") == before.campaignId && Column("kind") == "embassy" && Column("country") == after.country).fetchOne(db) {
                throw AppealsError.conflict("\(slug) already has an embassy in \(after.country!) (\(other.email)); a country has one embassy")
            }
            try after.update(db)
            var update = TargetUpdate(before: before, after: after)
            update.beingSent = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM letter WHERE target_id = ? AND status = 'sending'", arguments: [before.id]) ?? 0
            update.rewritten = try Self.rewriteUnsentLetters(db, where: "l.target_id = ?", [before.id], composer: composer, now: now)
            return update
        }
    }

    /// Writes again the queued and deferred letters that `condition` picks, from the stored templates and
    /// targets; keeps each letter's Message-ID.
    /// - Returns: how many letters were written again.
    static func rewriteUnsentLetters(_ db: Database, where condition: String, _ arguments: StatementArguments, composer: LetterComposer,
                                     now: Date) throws -> Int {
        let letters = try Letter.fetchAll(db, sql: """
            SELECT l.* FROM letter l WHERE l.status IN ('queued', 'deferred') AND \(condition)
            """, arguments: arguments)
        if letters.isEmpty { return 0 }
        let supporters = try Supporter.filter(keys: Set(letters.map(\.supporterId))).fetchAll(db).keyed { $0.id! }
        let targets = try Target.filter(keys: Set(letters.map(\.targetId))).fetchAll(db).keyed { $0.id! }
        let updateText = try db.cachedStatement(sql: "UPDATE letter_text SET subject = ?, body = ? WHERE letter_id = ?")
        let updateLetter = try db.cachedStatement(sql: "UPDATE letter SET language = ?, updated_at = ? WHERE id = ?")
        let rewritten = composer.rewritten(letters, supporters: supporters, targets: targets, now: now)
        for (id, rendered) in rewritten {
            try updateText.execute(arguments: [rendered.subject, rendered.body, id])
            try updateLetter.execute(arguments: [rendered.language, now, id])
        }
        return rewritten.count
    }

    /// Enables or disables a target. A disabled target receives nothing: its letters are held (kept queued)
    /// until it is enabled again.
    /// - Returns: the target, and how many letters it holds back (disabled) or lets go (enabled).
    public func setTargetEnabled(_ enabled: Bool, campaign slug: String, email: String) throws(AppealsError) -> (Target, held: Int) {
        try write { db in
            var target = try Self.target(email, campaign: try Self.campaign(slug, in: db), in: db)
            try target.setEnabled(enabled, campaign: slug)
            try target.update(db)
            let held = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM letter WHERE target_id = ? AND status IN ('queued', 'deferred')",
                                        arguments: [target.id]) ?? 0
            return (target, held)
        }
    }

    /// Removes a target from a campaign: its unsent letters are cancelled (even those a running `send` holds),
    /// it receives nothing more, and its letters stay for the counts.
    /// - Returns: the target, and how many letters were cancelled.
    public func removeTarget(campaign slug: String, email: String, now: Date = Date()) throws(AppealsError) -> (Target, cancelled: Int) {
        try write { db in
            let target = try Self.target(email, campaign: try Self.campaign(slug, in: db), in: db).removed(at: now, campaign: slug)
            let cancelled = try Self.cancelUnsentLetters(db, where: "target_id", is: target.id!, now: now)
            try target.update(db)
            return (target, cancelled)
        }
    }

    /// Cancels the unsent letters of one supporter or target, even those a running `send` has claimed: it checks
    /// what it may still send every turn, and counts a letter accepted meanwhile as sent.
    /// - Parameter column: `supporter_id` or `target_id`.
    /// - Returns: how many letters were cancelled.
    static func cancelUnsentLetters(_ db: Database, where column: String, is id: Int64, now: Date) throws -> Int {
        try db.execute(sql: """
            UPDATE letter SET status = 'cancelled', claimed_by = NULL, claimed_at = NULL, updated_at = ?
            WHERE \(column) = ? AND status IN ('queued', 'deferred', 'sending')
            """, arguments: [now, id])
        return db.changesCount
    }

    /// A campaign's stored subject and letter templates, each pair as one text, to look for a variable in.
    static func templateSources(campaignId: Int64, in db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT subject || letter FROM campaign_template WHERE campaign_id = ?", arguments: [campaignId])
    }

    static func target(_ email: String, campaign: Campaign, in db: Database) throws -> Target {
        guard let target = try Target.filter(Column("campaign_id") == campaign.id! && Column("email_key") == EmailAddress.key(email)).fetchOne(db) else {
            throw Target.notFound(email, campaign: campaign.slug)
        }
        return target
    }
}
