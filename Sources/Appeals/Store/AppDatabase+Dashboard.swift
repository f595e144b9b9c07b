import Foundation
import GRDB

/// What the organizers' dashboard shows of a campaign beyond `status`.
public struct CampaignActivity: Sendable {
    /// A refused or deferred attempt, with the server's reply.
    public struct Failure: Sendable {
        public var at: Date
        public var targetName: String
        public var targetEmail: String
        public var outcome: String
        public var code: Int?
        public var reply: String

        public init(at: Date, targetName: String, targetEmail: String, outcome: String, code: Int?, reply: String) {
            self.at = at
            self.targetName = targetName
            self.targetEmail = targetEmail
            self.outcome = outcome
            self.code = code
            self.reply = reply
        }
    }

    /// Letters sent in each of the last hours, oldest first, an hour with none counted as 0.
    public var sentPerHour: [(hour: Date, count: Int)]
    public var recentFailures: [Failure]
    /// Submissions waiting for their link to be opened, and not expired.
    public var pendingConfirmations: Int
    /// Letters being sent or due now: the page refreshes itself while there are some.
    public var inFlight: Int

    public init(sentPerHour: [(hour: Date, count: Int)], recentFailures: [Failure], pendingConfirmations: Int, inFlight: Int) {
        self.sentPerHour = sentPerHour
        self.recentFailures = recentFailures
        self.pendingConfirmations = pendingConfirmations
        self.inFlight = inFlight
    }
}

extension AppDatabase {
    /// - Parameter hours: how many hours back the chart goes.
    public func activity(campaign slug: String, now: Date = Date(), hours: Int = 24, failures: Int = 20) throws(AppealsError) -> CampaignActivity {
        try read { db in
            let campaign = try Self.campaign(slug, in: db)
            let id = campaign.id!
            let first = CampaignActivity.firstHour(now: now, hours: hours)
            var counts = [Date: Int]()
            for row in try Row.fetchAll(db, sql: """
                SELECT substr(sent_at, 1, 13), COUNT(*) FROM letter WHERE campaign_id = ? AND status = 'sent' AND sent_at >= ? GROUP BY 1
                """, arguments: [id, first]) {
                if let hour = Self.hourFormat.date(from: row[0]) { counts[hour] = row[1] }
            }
            let series = CampaignActivity.series(counts, from: first, hours: hours)
            let failures = try Row.fetchAll(db, sql: """
                SELECT a.attempted_at, t.name, t.email, a.outcome, a.code, a.reply
                FROM delivery_attempt a JOIN letter l ON l.id = a.letter_id JOIN target t ON t.id = l.target_id
                WHERE l.campaign_id = ? AND a.outcome <> 'sent' ORDER BY a.id DESC LIMIT ?
                """, arguments: [id, failures]).map { row in
                CampaignActivity.Failure(at: row[0], targetName: row[1], targetEmail: row[2], outcome: row[3], code: row[4], reply: row[5])
            }
            let pending = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM submission WHERE campaign_id = ? AND confirmed_at IS NULL AND expires_at > ?
                """, arguments: [id, now]) ?? 0
            let inFlight = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM letter WHERE campaign_id = ? AND (status = 'sending' OR (status IN ('queued', 'deferred') AND due_at <= ?))
                """, arguments: [id, now]) ?? 0
            return CampaignActivity(sentPerHour: series, recentFailures: failures, pendingConfirmations: pending, inFlight: inFlight)
        }
    }

    /// The first 13 characters of a stored date: `2026-11-30 14`.
    private static let hourFormat = DateFormatter.utc("yyyy-MM-dd HH")
}
