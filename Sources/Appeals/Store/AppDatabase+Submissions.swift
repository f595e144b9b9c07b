import Foundation
import GRDB

/// What opening a confirmation link did.
public enum Confirmation: Sendable, Equatable {
    /// The supporter and their letters were created and queued now; `created` is false when the address
    /// already took part, and its letters were left as they were.
    case confirmed(supporterId: Int64, created: Bool)
    /// Confirmed before: nothing new is created.
    case alreadyConfirmed
    case expired
    /// No such link (never issued, or "it wasn't me").
    case unknown
    /// The campaign no longer takes letters (closed, draft, or past its deadline).
    case campaignClosed
}

/// What a confirmation link leads to before anything is written.
public enum ConfirmationPlan: Sendable {
    /// Nothing to write: this is the answer.
    case answer(Confirmation)
    /// Confirm, writing the letters with this composer.
    case confirm(LetterComposer)
}

/// A confirmed supporter's letters, as the page behind their link shows them.
public struct SupporterLetters: Sendable {
    public struct Item: Sendable {
        public var target: Target
        public var status: LetterStatus
        public var subject: String
        public var body: String
        public var sentAt: Date?

        public init(target: Target, status: LetterStatus, subject: String, body: String, sentAt: Date?) {
            self.target = target
            self.status = status
            self.subject = subject
            self.body = body
            self.sentAt = sentAt
        }
    }

    public var campaign: Campaign
    /// `nil` once the supporter's personal data has been erased.
    public var supporter: Supporter?
    public var pageLanguage: String
    public var letters: [Item]

    public init(campaign: Campaign, supporter: Supporter?, pageLanguage: String, letters: [Item]) {
        self.campaign = campaign
        self.supporter = supporter
        self.pageLanguage = pageLanguage
        self.letters = letters
    }
}

extension AppDatabase {
    /// The campaign's status and deadline only: decoding the whole campaign cost more than the rest of a write.
    static func campaignState(_ id: Int64?, in db: Database) throws -> (status: CampaignStatus?, deadline: String?) {
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT status, deadline FROM campaign WHERE id = ?"), arguments: [id])
        return (row.flatMap { CampaignStatus(rawValue: $0[0]) }, row?[1])
    }

    /// Stores a submission and its confirmation email, within the caller's transaction.
    /// - Parameter perEmailPerHour: at most this many submissions for one address in an hour, whoever sends them,
    ///   so that nobody can flood a stranger's mailbox.
    /// - Returns: `false` when that limit is reached (nothing is stored).
    /// - Throws: ``AppealsError/conflict(_:)`` when the campaign takes no submissions.
    public static func storeSubmission(_ submission: Submission, email: OutboxMessage, perEmailPerHour: Int, now: Date,
                                       in db: Database) throws -> Bool {
        let state = try campaignState(submission.campaignId, in: db)
        guard Campaign.takesSubmissions(status: state.status, deadline: state.deadline, at: now) else {
            throw AppealsError.conflict("the campaign takes no letters now")
        }
        let recent = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM submission WHERE campaign_id = ? AND email_key = ? AND created_at > ?
            """, arguments: [submission.campaignId, submission.emailKey, now.addingTimeInterval(-3600)]) ?? 0
        guard recent < perEmailPerHour else { return false }
        var stored = submission
        try stored.insert(db)
        try enqueue(email, due: now, in: db)
        return true
    }

    /// Forgets unconfirmed submissions a week after their link expired, with the personal data they held.
    /// - Returns: how many were forgotten.
    @discardableResult
    public func purgeExpiredSubmissions(now: Date) throws(AppealsError) -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM submission WHERE confirmed_at IS NULL AND expires_at < ?",
                           arguments: [now.addingTimeInterval(-7 * 86_400)])
            return db.changesCount
        }
    }

    /// The pending submission behind a confirmation link, with its campaign; `nil` for an unknown link.
    public func submission(tokenHash: Data) throws(AppealsError) -> (Submission, Campaign)? {
        try read { db in
            guard let submission = try Self.submission(tokenHash: tokenHash, in: db),
                  let campaign = try Campaign.fetchOne(db, key: submission.campaignId) else { return nil }
            return (submission, campaign)
        }
    }

    /// A cached statement: preparing one for each confirmation cost more than the query.
    static func submission(tokenHash: Data, in db: Database) throws -> Submission? {
        try Submission.fetchOne(db.cachedStatement(sql: "SELECT * FROM submission WHERE token_hash = ?"), arguments: [tokenHash])
    }

    /// What confirming a link needs, read before its write: the answer already, when the link is unknown,
    /// used, expired or its campaign closed; else the campaign's composer.
    /// - Returns: `nil` for an unknown link; else the submission, its campaign and what to do.
    public func confirmationPlan(tokenHash: Data, now: Date, timeZone: TimeZone = .current,
                                 composers: ComposerCache? = nil) throws(AppealsError) -> (Submission, Campaign, ConfirmationPlan)? {
        guard let (found, campaign) = try submission(tokenHash: tokenHash) else { return nil }
        if let answer = ConfirmationPlan.answer(for: found, campaign: campaign, now: now) { return (found, campaign, .answer(answer)) }
        return (found, campaign, .confirm(try composer(for: campaign.slug, timeZone: timeZone, cache: composers)))
    }

    /// Confirms a submission within the caller's transaction: creates the supporter (unless the address
    /// already took part) and queues their letters. Confirming the same link again creates nothing.
    public static func confirmSubmission(tokenHash: Data, composer: LetterComposer, messageIDs: MessageIDGenerator, now: Date,
                                         in db: Database) throws -> Confirmation {
        let campaign = composer.campaign
        // Cached statements throughout: preparing them was a good part of a confirmation's time.
        let state = try campaignState(campaign.id, in: db)
        guard Campaign.takesConfirmations(status: state.status, deadline: state.deadline, at: now) else { return .campaignClosed }
        // Another request may have confirmed it since it was read.
        guard let submission = try Self.submission(tokenHash: tokenHash, in: db) else { return .unknown }
        if submission.confirmedAt != nil { return .alreadyConfirmed }
        var created = false
        var supporter = try Supporter.fetchOne(db.cachedStatement(sql: "SELECT * FROM supporter WHERE campaign_id = ? AND email_key = ?"),
                                               arguments: [campaign.id, submission.emailKey])
        if supporter == nil {
            var new = submission.supporter(at: now)
            try new.insert(db)
            supporter = new
            created = true
            let targets = try Target.fetchAll(db.cachedStatement(sql: "SELECT * FROM target WHERE campaign_id = ?"), arguments: [campaign.id])
            _ = try insertLetters(composer.letters(for: new, targets: targets, messageIDs: messageIDs, now: now), in: db)
        }
        try submission.confirmed(supporterId: supporter!.id!, at: now).update(db)
        return .confirmed(supporterId: supporter!.id!, created: created)
    }

    /// "It wasn't me": forgets a submission not yet confirmed, with the personal data it held.
    /// - Returns: whether there was one to forget.
    public func withdrawSubmission(tokenHash: Data) throws(AppealsError) -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM submission WHERE token_hash = ? AND confirmed_at IS NULL", arguments: [tokenHash])
            return db.changesCount == 1
        }
    }

    /// The letters of the supporter a confirmed link created or found; `nil` when the link is unknown or not
    /// yet confirmed.
    public func supporterLetters(tokenHash: Data) throws(AppealsError) -> SupporterLetters? {
        try read { db in
            guard let submission = try Self.submission(tokenHash: tokenHash, in: db), submission.confirmedAt != nil,
                  let campaign = try Campaign.fetchOne(db, key: submission.campaignId) else { return nil }
            guard let supporterId = submission.supporterId, let supporter = try Supporter.fetchOne(db, key: supporterId) else {
                return SupporterLetters(campaign: campaign, supporter: nil, pageLanguage: submission.pageLanguage, letters: [])
            }
            let rows = try Row.fetchAll(db, sql: """
                SELECT l.status, l.sent_at, x.subject, x.body, l.target_id
                FROM letter l LEFT JOIN letter_text x ON x.letter_id = l.id WHERE l.supporter_id = ? ORDER BY l.id
                """, arguments: [supporterId])
            let targets = try Target.filter(keys: rows.map { $0[4] as Int64 }).fetchAll(db).keyed(by: \.id!)
            let letters = rows.compactMap { row -> SupporterLetters.Item? in
                guard let target = targets[row[4]], let status = LetterStatus(rawValue: row[0]) else { return nil }
                return SupporterLetters.Item(target: target, status: status, subject: row[2] ?? "", body: row[3] ?? "", sentAt: row[1])
            }
            return SupporterLetters(campaign: campaign, supporter: supporter.erasedAt == nil ? supporter : nil,
                                    pageLanguage: submission.pageLanguage, letters: letters)
        }
    }
}
